"""A venue's A4 poster (PDF): its name and address, the check-in QR code, big Vietnamese
instructions for elderly visitors, and the code to type where a phone cannot scan.

fpdf2 with DejaVu Sans (Debian fonts-dejavu-core) for Vietnamese; the QR (segno, error level
Q) is drawn as vector squares, so it prints sharp at any size.
"""

from __future__ import annotations

import re
from pathlib import Path

import segno
from fpdf import FPDF

from callengine.errors import ConfigError
from callengine.health.venues import VenueView, checkin_url, typed_code

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
MONO = "DejaVuSansMono.ttf"
PAGE_WIDTH, MARGIN = 210.0, 15.0
QR_SIZE = 115.0  # mm, quiet zone included
STEPS = (
    "1. Mở camera điện thoại, hướng vào mã QR.",
    "2. Bấm vào đường link hiện ra trên màn hình.",
    "3. Ghi họ tên, số điện thoại, đánh dấu nếu có triệu chứng, rồi bấm «Gửi khai báo».",
)


class PosterError(ConfigError):
    """A poster cannot be made (no public address set, fonts missing)."""


def _fonts(pdf: FPDF) -> None:
    for style, name in {**FONTS, "M": MONO}.items():
        path = FONT_DIR / name
        if not path.exists():
            raise PosterError(f"Thiếu phông chữ {path} (gói Debian fonts-dejavu-core).")
        family = "Mono" if style == "M" else "DejaVu"
        pdf.add_font(family, "" if style == "M" else style, str(path))


def _qr(pdf: FPDF, url: str, top: float) -> None:
    """The QR code as black squares, one run of dark modules per rectangle."""
    code = segno.make(url, error="q", boost_error=False)
    matrix = [list(row) for row in code.matrix_iter(border=4)]
    module = QR_SIZE / len(matrix)
    left = (PAGE_WIDTH - QR_SIZE) / 2
    pdf.set_fill_color(0, 0, 0)
    for row, cells in enumerate(matrix):
        column = 0
        while column < len(cells):
            if not cells[column]:
                column += 1
                continue
            start = column
            while column < len(cells) and cells[column]:
                column += 1
            pdf.rect(left + start * module, top + row * module, (column - start) * module,
                     module, style="F")


def _centered(pdf: FPDF, text: str, size: float, style: str = "", height: float = 0) -> None:
    pdf.set_font("DejaVu", style, size)
    pdf.multi_cell(0, height or size * 0.5, text, align="C", new_x="LMARGIN", new_y="NEXT")


def typed_address(public_url: str, token: str) -> str:
    """The check-in address as a visitor types it: no scheme, the code in groups of four."""
    return f"{re.sub(r'^https?://', '', public_url.rstrip('/'))}/c/{typed_code(token)}"


def _typed_lines(public_url: str, token: str) -> tuple[str, str]:
    """The typed address on two lines: the site and /c/, then the code."""
    site, _sep, code = typed_address(public_url, token).rpartition("/c/")
    return f"{site}/c/", code


def render_poster(venue: VenueView, public_url: str) -> bytes:
    """The poster of a venue as PDF bytes; PosterError if the public address is not set."""
    if not public_url:
        raise PosterError("Chưa đặt địa chỉ công khai (public_url) nên chưa in được áp phích: "
                          "mã QR phải chứa địa chỉ mà người dân mở được.")
    pdf = FPDF(format="A4")
    pdf.set_margins(MARGIN, MARGIN)
    pdf.set_auto_page_break(False)
    pdf.set_title(f"Mã QR khai báo y tế - {venue.name}")
    _fonts(pdf)
    pdf.add_page()
    _centered(pdf, "KHAI BÁO Y TẾ KHI ĐẾN", 24, "B", 12)
    _centered(pdf, venue.name, 20, "B", 10)
    if venue.address or venue.commune or venue.district:
        place = ", ".join(p for p in (venue.address, venue.commune, venue.district) if p)
        _centered(pdf, place, 13, "", 7)
    _qr(pdf, checkin_url(public_url, venue.token), pdf.get_y() + 3)
    pdf.set_y(pdf.get_y() + QR_SIZE + 6)
    pdf.set_font("DejaVu", "", 17)
    for step in STEPS:
        pdf.multi_cell(0, 8.5, step, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _centered(pdf, "Không cần cài ứng dụng, không cần tài khoản.", 14, "B", 8)
    pdf.ln(3)
    _centered(pdf, "Điện thoại không quét được mã? Mở trình duyệt và gõ:", 13, "", 7)
    pdf.set_font("Mono", "", 16)
    for line in _typed_lines(public_url, venue.token):
        pdf.multi_cell(0, 7, line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    _centered(pdf, "Nếu sốt, ho, khó thở: gọi trạm y tế xã, trung tâm y tế huyện hoặc 115.",
              12, "", 6)
    return bytes(pdf.output())
