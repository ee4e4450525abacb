"""The document signer: an EC P-256 key and its certificate; COSE_Sign1 with ES256.

The key id (`kid`) is the first 8 bytes of the SHA-256 of the certificate (DER), as the EU
DCC specifies; it travels in the protected header.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pycose.algorithms import Es256
from pycose.headers import KID, Algorithm
from pycose.keys import CoseKey
from pycose.messages import Sign1Message

KID_BYTES = 8


def key_id(certificate: x509.Certificate) -> bytes:
    """The DCC kid of a document-signer certificate."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).digest()[:KID_BYTES]


def cose_key(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> CoseKey:
    """A cryptography EC key as pycose's key."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        return CoseKey.from_pem_private_key(pem.decode())
    pem = key.public_bytes(serialization.Encoding.PEM,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return CoseKey.from_pem_public_key(pem.decode())


def certificate_pem(certificate: x509.Certificate) -> str:
    """A certificate as PEM text (what verifiers download)."""
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


@dataclass(frozen=True)
class DocumentSigner:
    private_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def kid(self) -> bytes:
        return key_id(self.certificate)

    def sign(self, claims: dict[int, Any]) -> bytes:
        """The CWT claims as a tagged COSE_Sign1 message, signed ES256."""
        message = Sign1Message(phdr={Algorithm: Es256, KID: self.kid},
                               payload=cbor2.dumps(claims))
        message.key = cose_key(self.private_key)
        return message.encode()
