"""Verify an HC1 text as a DCC verifier does: decode, find the signer by kid, check the ES256
signature, then the expiry. Says why a certificate is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec
from pycose.exceptions import CoseException
from pycose.headers import KID
from pycose.messages import Sign1Message

from callengine.certificates import hc1
from callengine.certificates.payload import EXPIRES, HCERT, HCERT_V1, ISSUED_AT, ISSUER
from callengine.certificates.signer import cose_key

COSE_SIGN1_TAG, CWT_TAG = 18, 61
VALID, MALFORMED, UNKNOWN_KID, BAD_SIGNATURE, EXPIRED = (
    "valid", "malformed", "unknown_kid", "bad_signature", "expired")
MESSAGES = {
    VALID: "Chứng nhận hợp lệ.",
    MALFORMED: "Mã không đúng định dạng chứng nhận EU DCC",
    UNKNOWN_KID: "Chứng nhận được ký bằng một khóa không được tin cậy (kid không biết).",
    BAD_SIGNATURE: "Chữ ký không hợp lệ: chứng nhận đã bị sửa hoặc bị giả mạo.",
    EXPIRED: "Chứng nhận đã hết hạn.",
}


@dataclass(frozen=True)
class Verification:
    reason: str  # one of VALID, MALFORMED, UNKNOWN_KID, BAD_SIGNATURE, EXPIRED
    message: str  # Vietnamese, for the page
    kid: str | None = None  # hex
    issuer: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    hcert: dict[str, Any] | None = None  # only once the signature is good

    @property
    def valid(self) -> bool:
        return self.reason == VALID


def _malformed(detail: str) -> Verification:
    return Verification(MALFORMED, f"{MESSAGES[MALFORMED]}: {detail}")


def _sign1(cose: bytes) -> Sign1Message:
    """The COSE_Sign1 message, tagged or not (some issuers wrap it in a CWT tag)."""
    item = cbor2.loads(cose)
    if isinstance(item, cbor2.CBORTag) and item.tag == CWT_TAG:
        item = item.value
    if isinstance(item, cbor2.CBORTag):
        if item.tag != COSE_SIGN1_TAG:
            raise ValueError(f"thẻ CBOR {item.tag}")
        item = item.value
    if not isinstance(item, list) or len(item) != 4:
        raise ValueError("không phải COSE_Sign1")
    return Sign1Message.decode(cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, item)))


def _moment(claims: dict, key: int) -> datetime | None:
    value = claims.get(key)
    return datetime.fromtimestamp(value, timezone.utc) if isinstance(value, (int, float)) \
        else None


def verify(text: str, trusted: Mapping[bytes, ec.EllipticCurvePublicKey],
           now: datetime) -> Verification:
    """Check an HC1 text against the trusted signers (kid -> public key) at `now`."""
    try:
        message = _sign1(hc1.decode(text))
    except hc1.Malformed as error:
        return _malformed(str(error))
    except (ValueError, TypeError, KeyError, AttributeError, CoseException,
            cbor2.CBORDecodeError) as error:
        return _malformed(f"COSE hỏng ({error})")
    kid = message.phdr.get(KID) or message.uhdr.get(KID)
    kid_hex = kid.hex() if isinstance(kid, bytes) else None
    public_key = trusted.get(kid) if isinstance(kid, bytes) else None
    if public_key is None:
        return Verification(UNKNOWN_KID, MESSAGES[UNKNOWN_KID], kid=kid_hex)
    message.key = cose_key(public_key)
    try:
        good = message.verify_signature()
    except (CoseException, ValueError, TypeError):
        good = False
    if not good:
        return Verification(BAD_SIGNATURE, MESSAGES[BAD_SIGNATURE], kid=kid_hex)
    try:
        claims = cbor2.loads(message.payload or b"")  # no payload: a decode error
        payload = claims[HCERT][HCERT_V1]
    except (cbor2.CBORDecodeError, KeyError, TypeError, ValueError):
        return _malformed("không có dữ liệu hcert")
    found = dict(kid=kid_hex, issuer=claims.get(ISSUER), issued_at=_moment(claims, ISSUED_AT),
                 expires_at=_moment(claims, EXPIRES), hcert=payload)
    if found["expires_at"] is None or found["expires_at"] <= now:
        return Verification(EXPIRED, MESSAGES[EXPIRED], **found)
    return Verification(VALID, MESSAGES[VALID], **found)
