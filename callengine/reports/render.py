"""Plain-text Vietnamese renderings of the reports, for the CLI."""

from __future__ import annotations

from dataclasses import fields

from callengine.labels import FIGURE_LABELS, NO_COMMUNE, NO_DISTRICT, OUTCOME_LABELS
from callengine.paging import Page
from callengine.reports.calls import CallRow
from callengine.reports.dashboard import Dashboard
from callengine.reports.figures import AreaFigures, Figures

TABLE_FIGURES = ("planned", "dialled", "reached", "completed", "flagged", "urgent",
                 "unreachable")


def _figures_line(figures: Figures) -> str:
    return ", ".join(f"{FIGURE_LABELS[f.name]}: {getattr(figures, f.name)}"
                     for f in fields(figures))


def _area(row: AreaFigures, with_commune: bool) -> str:
    district = row.district or NO_DISTRICT
    return f"{district} / {row.commune or NO_COMMUNE}" if with_commune else district


def _area_lines(title: str, rows: tuple[AreaFigures, ...], with_commune: bool) -> list[str]:
    header = " | ".join(FIGURE_LABELS[name] for name in TABLE_FIGURES)
    lines = [title, f"  {'':30} {header}"]
    for row in rows:
        values = " | ".join(f"{getattr(row.figures, n):>{len(FIGURE_LABELS[n])}}"
                            for n in TABLE_FIGURES)
        lines.append(f"  {_area(row, with_commune)[:30]:30} {values}")
    return lines


def _series_lines(board: Dashboard) -> list[str]:
    lines = [f"Kết quả cuộc gọi {len(board.series)} ngày qua:"]
    for day in board.series:
        parts = ", ".join(f"{OUTCOME_LABELS[o]} {n}" for o, n in day.counts.items() if n)
        lines.append(f"  {day.day:%d/%m/%Y}: {day.total}" + (f" ({parts})" if parts else ""))
    return lines


def dashboard_lines(board: Dashboard) -> list[str]:
    """The dashboard as lines of text."""
    lines = [f"Tình hình gọi ngày {board.day:%d/%m/%Y} (cập nhật lúc "
             f"{board.generated_at:%H:%M %d/%m/%Y})"]
    if board.paused is not None:
        lines.append("Chiến dịch: " + ("đang tạm dừng" if board.paused else "đang chạy"))
    lines.append(_figures_line(board.totals))
    lines.append("Kênh đang dùng theo trunk: " + ", ".join(
        f"{t.name} {t.live}/{t.max_channels if t.max_channels is not None else '?'}"
        for t in board.trunks))
    if board.servers:
        lines.append("Theo máy chủ: " + ", ".join(f"{s.name} {s.live}" for s in board.servers))
    lines += _series_lines(board)
    lines += _area_lines("Theo huyện:", board.districts, False)
    lines += _area_lines("Theo xã/phường:", board.communes, True)
    return lines


def _call_line(row: CallRow) -> str:
    extra = [f"mã {row.cause}" if row.cause is not None else "",
             f"SIP {row.sip_code}" if row.sip_code is not None else "",
             f"{row.talk:.0f} giây đàm thoại" if row.talk is not None else ""]
    tail = ", ".join(e for e in extra if e)
    return (f"{row.time:%d/%m/%Y %H:%M:%S}  {row.phone}  {row.name}  "
            f"{row.district or NO_DISTRICT}  {row.trunk}@{row.server}  {row.outcome_label}"
            + (f" ({tail})" if tail else ""))


def call_lines(page: Page[CallRow]) -> list[str]:
    """One page of the calls log as lines of text, with the next page's cursor."""
    if not page.items:
        return ["Không có cuộc gọi nào."]
    lines = [_call_line(row) for row in page.items]
    if page.next:
        lines.append(f"Trang sau: --after {page.next}")
    return lines
