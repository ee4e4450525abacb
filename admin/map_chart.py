"""The epidemic map as plain geometry: the cartogram's tiles coloured by their class, the
district outlines and the legend, drawn by a template into an inline <svg> (no script, no
inline style). Each tile is a link to its row of the table, so it can be focused and tapped,
and carries its name and figure in an SVG <title> (the tooltip)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from callengine.geo.cartogram import layout
from callengine.reports.map import PERCENT, LegendClass, MapData, class_of

WIDTH = 640  # the drawing's width; tiles are square
GAP = 1  # between tiles, in drawing units
# Zero, then five classes from pale yellow to dark red (ColorBrewer YlOrRd, colour-blind safe).
COLOURS = ("#dde3ea", "#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")


@dataclass(frozen=True)
class DrawnTile:
    code: str
    x: float
    y: float
    size: float
    colour: str
    title: str
    value: str


@dataclass(frozen=True)
class LegendEntry:
    colour: str
    label: str


@dataclass(frozen=True)
class MapChart:
    width: float
    height: float
    tiles: tuple[DrawnTile, ...]
    outlines: tuple[tuple[float, float, float, float], ...]  # x1, y1, x2, y2
    legend: tuple[LegendEntry, ...]


def format_value(value: float, kind: str) -> str:
    if kind == PERCENT:
        return f"{value:.1f} %".replace(".", ",")
    return f"{int(value):,}".replace(",", ".")


def class_label(entry: LegendClass, kind: str) -> str:
    low, high = (format_value(v, kind) for v in (entry.low, entry.high))
    if kind == PERCENT:
        return _("%(low)s to %(high)s", low=low, high=high)
    if entry.index == 0:
        return _("none")
    return low if entry.low == entry.high else f"{low}–{high}"


def _colour(entry: LegendClass) -> str:
    return COLOURS[min(entry.index, len(COLOURS) - 1)]


def map_chart(data: MapData) -> MapChart:
    """The drawing of one figure over one division."""
    grid = layout(data.division)
    cell = WIDTH / grid.cols
    by_code = data.by_code()
    kind = data.figure.kind
    tiles = []
    for tile in grid.tiles:
        unit = by_code[tile.code]
        value = format_value(unit.value, kind)
        place = f"{unit.name} ({unit.district})" if unit.district else unit.name
        tiles.append(DrawnTile(
            tile.code, tile.col * cell + GAP / 2, tile.row * cell + GAP / 2, cell - GAP,
            _colour(class_of(data.classes, unit.value)),
            f"{place}: {data.figure.label} {value}", value))
    outlines = tuple((e.start[0] * cell, e.start[1] * cell, e.end[0] * cell, e.end[1] * cell)
                     for e in grid.edges)
    legend = tuple(LegendEntry(_colour(c), class_label(c, kind)) for c in data.classes)
    return MapChart(WIDTH, grid.rows * cell, tuple(tiles), outlines, legend)
