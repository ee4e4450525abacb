"""EU DCC certificates: the project's encoder checked by an independent decoder (cbor2 +
cryptography over the COSE Sig_structure, and pycose's own Sign1 verification), forged,
tampered, unknown-key and expired certificates refused, the QR code read back by zxing-cpp."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zlib
from datetime import date, datetime, timedelta, timezone

import base45
import cbor2
import pytest
import zxingcpp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from PIL import Image
from pycose.keys import CoseKey
from pycose.messages import Sign1Message

from callengine.certificates import hc1, keyfiles, payload, verify
from callengine.certificates.names import holder_name, machine_readable
from callengine.certificates.signer import DocumentSigner
from callengine.cli import main
from callengine.vaccines import load_catalogue

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)


@pytest.fixture
def signer(tmp_path):
    return keyfiles.generate(tmp_path / "key.pem", tmp_path / "signer.pem", NOW)


def _certificate(signer, name="Trần Thị Diệu", birth_year=1985, product="Pfizer", dn=2,
                 issued=NOW, days=365):
    dose = payload.Dose(load_catalogue().find(product), dn, date(2021, 9, 14),
                        payload.uvci("0A1B2C3D4E5F6071"))
    body = payload.hcert(payload.Holder(name, birth_year), dose, "Bộ Y tế Việt Nam")
    return hc1.encode(signer.sign(payload.cwt_claims(body, issued, days)))


def _independent_decode(text: str, certificate_pem: bytes) -> dict:
    """Decode and verify without the project's code: Base45, zlib, cbor2, and ES256 over
    ["Signature1", protected, b"", payload] with cryptography."""
    assert text.startswith("HC1:")
    cose = zlib.decompress(base45.b45decode(text[4:]))
    tagged = cbor2.loads(cose)
    assert tagged.tag == 18
    protected, _unprotected, body, signature = tagged.value
    headers = cbor2.loads(protected)
    assert headers[1] == -7  # ES256
    certificate = x509.load_pem_x509_certificate(certificate_pem)
    der = certificate.public_bytes(serialization.Encoding.DER)
    assert headers[4] == hashlib.sha256(der).digest()[:8]  # kid
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", body])
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    certificate.public_key().verify(encode_dss_signature(r, s), to_be_signed,
                                    ec.ECDSA(hashes.SHA256()))
    return cbor2.loads(body)


def test_an_independent_decoder_reads_and_verifies_the_certificate(signer, tmp_path):
    text = _certificate(signer)
    claims = _independent_decode(text, (tmp_path / "signer.pem").read_bytes())
    assert claims[1] == "VN"
    assert claims[6] == int(NOW.timestamp())
    assert claims[4] == int((NOW + timedelta(days=365)).timestamp())
    dcc = claims[-260][1]
    assert dcc["ver"] == "1.3.0"
    assert dcc["dob"] == "1985"
    assert dcc["nam"] == {"fn": "Trần", "fnt": "TRAN", "gn": "Thị Diệu", "gnt": "THI<DIEU"}
    assert dcc["v"] == [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528",
                         "ma": "ORG-100030215", "dn": 2, "sd": 2, "dt": "2021-09-14",
                         "co": "VN", "is": "Bộ Y tế Việt Nam",
                         "ci": "URN:UVCI:01:VN:0A1B2C3D4E5F6071"}]


def test_pycose_verifies_the_signature_with_the_published_certificate(signer, tmp_path):
    cose = zlib.decompress(base45.b45decode(_certificate(signer)[4:]))
    message = Sign1Message.decode(cose)
    certificate = x509.load_pem_x509_certificate((tmp_path / "signer.pem").read_bytes())
    pem = certificate.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    message.key = CoseKey.from_pem_public_key(pem.decode())
    assert message.verify_signature()


def _trusted(tmp_path):
    return keyfiles.trusted_keys(tmp_path / "signer.pem")


def test_the_project_verifier_accepts_its_certificate_and_shows_the_holder(signer, tmp_path):
    result = verify.verify(_certificate(signer), _trusted(tmp_path), NOW + timedelta(days=1))
    assert result.valid and result.reason == "valid"
    assert result.hcert["nam"]["gn"] == "Thị Diệu"
    assert result.kid == signer.kid.hex()


def test_a_certificate_forged_with_another_key_and_the_same_kid_is_refused(signer, tmp_path):
    other = ec.generate_private_key(ec.SECP256R1())
    forger = DocumentSigner(other, signer.certificate)  # the real certificate: the same kid
    text = _certificate(forger)
    result = verify.verify(text, _trusted(tmp_path), NOW)
    assert result.reason == "bad_signature" and not result.valid
    assert result.hcert is None  # nothing of a forged certificate is shown
    with pytest.raises(InvalidSignature):
        _independent_decode(text, (tmp_path / "signer.pem").read_bytes())


def test_a_tampered_certificate_is_refused(signer, tmp_path):
    cose = cbor2.loads(zlib.decompress(base45.b45decode(_certificate(signer)[4:])))
    protected, unprotected, body, signature = cose.value
    claims = cbor2.loads(body)
    claims[-260][1]["v"][0]["dn"] = 3  # one more dose than was given
    forged = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(claims),
                                            signature]))
    text = hc1.encode(forged)
    assert verify.verify(text, _trusted(tmp_path), NOW).reason == "bad_signature"


def test_a_certificate_of_an_unknown_signer_is_refused(signer, tmp_path):
    stranger = keyfiles.generate(tmp_path / "other" / "key.pem", tmp_path / "other" / "c.pem",
                                 NOW)
    result = verify.verify(_certificate(stranger), _trusted(tmp_path), NOW)
    assert result.reason == "unknown_kid"
    assert "kid" in result.message


def test_an_expired_certificate_is_refused(signer, tmp_path):
    text = _certificate(signer, issued=NOW - timedelta(days=400))
    result = verify.verify(text, _trusted(tmp_path), NOW)
    assert result.reason == "expired" and result.message == "Chứng nhận đã hết hạn."
    assert result.hcert["v"][0]["dn"] == 2  # an expired one still shows what it held


@pytest.mark.parametrize("text", ["", "HC2:ABC", "HC1:%%%", "HC1:" + base45.b45encode(
    zlib.compress(b"not cbor")).decode(), "HC1:" + base45.b45encode(cbor2.dumps([1, 2]))
    .decode()])
def test_malformed_texts_are_refused_with_a_reason(signer, tmp_path, text):
    result = verify.verify(text, _trusted(tmp_path), NOW)
    assert result.reason == "malformed"
    assert result.message.startswith("Mã không đúng định dạng")


@pytest.mark.parametrize("full_name, expected", [
    ("Trần Thị Diệu", {"fn": "Trần", "fnt": "TRAN", "gn": "Thị Diệu", "gnt": "THI<DIEU"}),
    ("Đặng  Đình Đức", {"fn": "Đặng", "fnt": "DANG", "gn": "Đình Đức", "gnt": "DINH<DUC"}),
    ("Nguyễn Ngọc Ánh Dương", {"fn": "Nguyễn", "fnt": "NGUYEN", "gn": "Ngọc Ánh Dương",
                               "gnt": "NGOC<ANH<DUONG"}),
    ("Hà", {"fn": "Hà", "fnt": "HA"}),
])
def test_vietnamese_names_in_the_machine_readable_form(full_name, expected):
    assert holder_name(full_name) == expected


def test_machine_readable_names_stay_within_the_schema():
    long = machine_readable("Tôn Nữ " * 20)
    assert len(long) == 50 and set(long) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ<")


def test_the_qr_code_reads_back_to_the_same_text(signer):
    text = _certificate(signer)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(hc1.qr_png(text))))
    assert [barcode.text for barcode in found] == [text]
    code = hc1.qr_code(text)
    assert code.error == "Q" and code.mode == "alphanumeric"


def test_keygen_writes_a_private_key_and_refuses_to_overwrite_it(tmp_path, monkeypatch,
                                                                  capsys):
    monkeypatch.setenv("CALLENGINE_DATA_DIR", str(tmp_path))
    assert main(["certificates", "keygen"]) == 0
    key = tmp_path / "certificates" / "signing-key.pem"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    first = key.read_bytes()
    assert "kid" in capsys.readouterr().out
    assert main(["certificates", "keygen"]) == 2
    assert "--force" in capsys.readouterr().err
    assert key.read_bytes() == first
    assert main(["certificates", "keygen", "--force"]) == 0
    assert key.read_bytes() != first
    signer = keyfiles.load_signer(key, tmp_path / "certificates" / "signer.pem")
    assert signer.private_key.curve.name == "secp256r1"


def test_a_certificate_that_is_not_the_keys_is_refused(tmp_path):
    keyfiles.generate(tmp_path / "a.pem", tmp_path / "a.crt", NOW)
    keyfiles.generate(tmp_path / "b.pem", tmp_path / "b.crt", NOW)
    with pytest.raises(keyfiles.SignerUnavailable, match="không thuộc khóa"):
        keyfiles.load_signer(tmp_path / "a.pem", tmp_path / "b.crt")
    with pytest.raises(keyfiles.SignerUnavailable, match="keygen"):
        keyfiles.load_signer(tmp_path / "none.pem", tmp_path / "a.crt")
