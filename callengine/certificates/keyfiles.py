"""The signer's files: `callengine certificates keygen` writes an EC P-256 key (0600) and a
self-signed document-signer certificate; the admin and the CLI read them.

A self-signed certificate is for a test deployment: in production the key pair's
certificate is signed by the country's CSCA and published through the EU DCC gateway.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from callengine.certificates.signer import DocumentSigner, key_id
from callengine.errors import CallengineError

CERTIFICATE_YEARS = 2


class SignerUnavailable(CallengineError):
    """The signing key or certificate cannot be read (or would be overwritten)."""


def _subject() -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "callengine (thử nghiệm)"),
        x509.NameAttribute(NameOID.COMMON_NAME, "callengine DSC test"),
    ])


def self_signed(key: ec.EllipticCurvePrivateKey, now: datetime) -> x509.Certificate:
    """A document-signer certificate for `key`, signed by itself."""
    name = _subject()
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365 * CERTIFICATE_YEARS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)


def generate(key_path: Path, certificate_path: Path, now: datetime, force: bool = False
             ) -> DocumentSigner:
    """Write a new key pair and its certificate; refuse to replace a key unless forced."""
    if key_path.exists() and not force:
        raise SignerUnavailable(f"Khóa ký {key_path} đã có. Chứng nhận đã cấp được ký bằng "
                                "khóa này; thêm --force nếu thật sự muốn thay.")
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = self_signed(key, now)
    _write_private(key_path, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    certificate_path.parent.mkdir(parents=True, exist_ok=True)
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return DocumentSigner(key, certificate)


def read_certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        raise SignerUnavailable(f"Chưa có chứng thư của khóa ký ({path}): chạy "
                                "`callengine certificates keygen`.") from None
    except ValueError:
        raise SignerUnavailable(f"{path} không phải chứng thư X.509 dạng PEM.") from None


def load_signer(key_path: Path, certificate_path: Path) -> DocumentSigner:
    """The signer from its files, checked to belong together."""
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except FileNotFoundError:
        raise SignerUnavailable(f"Chưa có khóa ký chứng nhận ({key_path}): chạy "
                                "`callengine certificates keygen`.") from None
    except (ValueError, TypeError):
        raise SignerUnavailable(f"{key_path} không phải khóa riêng PEM đọc được.") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SignerUnavailable(f"{key_path}: khóa ký phải là EC P-256 (ES256).")
    certificate = read_certificate(certificate_path)
    if certificate.public_key() != key.public_key():
        raise SignerUnavailable(f"Chứng thư {certificate_path} không thuộc khóa {key_path}.")
    return DocumentSigner(key, certificate)


def trusted_keys(certificate_path: Path) -> dict[bytes, ec.EllipticCurvePublicKey]:
    """kid -> public key of the signers this deployment trusts (its own)."""
    certificate = read_certificate(certificate_path)
    public_key = certificate.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise SignerUnavailable(f"{certificate_path}: khóa công khai không phải EC.")
    return {key_id(certificate): public_key}
