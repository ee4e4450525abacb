"""The transport form: "HC1:" + Base45(zlib(COSE_Sign1)), and its QR code (segno, error
correction Q, alphanumeric mode: Base45 is exactly the QR alphanumeric alphabet)."""

from __future__ import annotations

import io
import zlib

import base45
import segno

PREFIX = "HC1:"


class Malformed(ValueError):
    """Not an HC1 text (prefix, Base45 or zlib broken)."""


def encode(cose: bytes) -> str:
    return PREFIX + base45.b45encode(zlib.compress(cose, 9)).decode("ascii")


def decode(text: str) -> bytes:
    """The COSE bytes of an HC1 text (an uncompressed body is accepted, as verifiers do)."""
    text = (text or "").strip()
    if not text.startswith(PREFIX):
        raise Malformed("Mã không bắt đầu bằng HC1:.")
    try:
        data = base45.b45decode(text[len(PREFIX):])
    except (ValueError, TypeError):
        raise Malformed("Phần sau HC1: không phải Base45.") from None
    if data[:1] == b"\x78":
        try:
            return zlib.decompress(data)
        except zlib.error:
            raise Malformed("Dữ liệu nén (zlib) bị hỏng.") from None
    return data


def qr_code(text: str) -> segno.QRCode:
    return segno.make_qr(text, error="q", mode="alphanumeric", boost_error=False)


def qr_png(text: str, scale: int = 4) -> bytes:
    """The QR code of an HC1 text as a PNG (quiet zone of 4 modules)."""
    out = io.BytesIO()
    qr_code(text).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
