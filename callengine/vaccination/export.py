"""The coverage table as a file: xlsx (names stored as text cells, never formulas) or CSV
(UTF-8 with BOM; cells starting with = + - @ neutralised)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import IO

from callengine.cells import csv_value, xlsx_cell
from callengine.vaccination.coverage import (
    AGE_BAND_LABELS,
    AGE_BANDS,
    CommuneCoverage,
    province_total,
)

FORMATS = ("csv", "xlsx")


def header() -> list[str]:
    columns = ["Huyện", "Xã", "Số người", "Đã tiêm ≥ 1 mũi", "Đủ liều", "Tỷ lệ ≥ 1 mũi (%)",
               "Tỷ lệ đủ liều (%)"]
    for band in AGE_BANDS:
        label = AGE_BAND_LABELS[band]
        columns += [f"{label}: số người", f"{label}: ≥ 1 mũi", f"{label}: đủ liều"]
    return columns


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def table(rows: list[CommuneCoverage]) -> list[list]:
    """Header, one row per commune, and the province's total last."""
    lines: list[list] = [header()]
    total = CommuneCoverage("Toàn tỉnh", "")
    total.total = province_total(rows)
    for band in AGE_BANDS:
        for row in rows:
            total.bands[band].add(row.bands[band])
    for row in [*rows, total]:
        counts = row.total
        line = [row.district or "", row.commune or "", counts.people, counts.one_dose,
                counts.full_course, _percent(counts.one_dose, counts.people),
                _percent(counts.full_course, counts.people)]
        for band in AGE_BANDS:
            b = row.bands[band]
            line += [b.people, b.one_dose, b.full_course]
        lines.append(line)
    return lines


def write_coverage(rows: list[CommuneCoverage], day: date, fmt: str, out: IO[bytes]) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {FORMATS}")
    lines = table(rows)
    if fmt == "csv":
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        for line in lines:
            writer.writerow(["" if v is None else csv_value(v) for v in line])
        out.write(text.getvalue().encode("utf-8-sig"))
        return
    _write_xlsx(lines, day, out)


def _write_xlsx(lines: list[list], day: date, out: IO[bytes]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(f"Tiêm chủng {day:%d-%m-%Y}")
    for line in lines:  # text stays text: a name typed "=1+1" stays a name
        sheet.append([xlsx_cell(sheet, value) for value in line])
    book.save(out)
