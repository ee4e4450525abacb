"""A tile cartogram of the province: one square per commune, placed near its centre.

No commune boundaries of Thanh Hóa are served by a package registry, so the map is a grid:
each commune's centre (from the official list) is projected (longitude scaled by the cosine
of the province's latitude, latitude flipped) onto a grid about twice as large as the
number of communes, and the commune takes the free cell nearest to it (the dense lowland
communes are pushed apart, the mountain communes keep their places). In the old division
the edges between two districts (and around the province) are drawn as outlines, so the
communes read as grouped by district. Computed once per division.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from callengine.geo.units import OLD, Unit, load_units

CELLS_PER_UNIT = 2.0
NEIGHBOURS = ((1, 0), (-1, 0), (0, 1), (0, -1))


@dataclass(frozen=True)
class Tile:
    code: str
    col: int
    row: int
    group: str | None  # the old district (None in the new division)


@dataclass(frozen=True)
class Edge:
    """A grid-cell side between two groups or at the province's edge: (col, row) corners."""

    start: tuple[int, int]
    end: tuple[int, int]


@dataclass(frozen=True)
class Layout:
    division: str
    cols: int
    rows: int
    tiles: tuple[Tile, ...]
    edges: tuple[Edge, ...]


def _lat_lon(unit: Unit) -> tuple[float, float]:
    """A unit's centre (every unit laid out has one)."""
    assert unit.lat is not None and unit.lon is not None, unit.code
    return unit.lat, unit.lon


def _projected(units: list[Unit]) -> dict[str, tuple[float, float]]:
    centres = {u.code: _lat_lon(u) for u in units}
    lat0 = sum(lat for lat, _ in centres.values()) / len(units)
    scale = math.cos(math.radians(lat0))
    return {code: (lon * scale, -lat) for code, (lat, lon) in centres.items()}


def _nearest_free(taken: set[tuple[int, int]], x: float, y: float) -> tuple[int, int]:
    """The free cell nearest to (x, y), searched ring by ring."""
    col, row = round(x), round(y)
    for radius in range(0, 10_000):
        ring = [(c, r) for c in range(col - radius, col + radius + 1)
                for r in range(row - radius, row + radius + 1)
                if max(abs(c - col), abs(r - row)) == radius and (c, r) not in taken]
        if ring:
            return min(ring, key=lambda cell: ((cell[0] - x) ** 2 + (cell[1] - y) ** 2, cell))
    raise AssertionError("no free cell")  # pragma: no cover (the grid is unbounded)


def _place(units: list[Unit]) -> dict[str, tuple[int, int]]:
    points = _projected(units)
    xs, ys = [p[0] for p in points.values()], [p[1] for p in points.values()]
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    cell = math.sqrt(width * height / (CELLS_PER_UNIT * len(units)))
    grid = {code: ((x - min(xs)) / cell, (y - min(ys)) / cell) for code, (x, y) in points.items()}
    # the most crowded first would scatter them; from the province's centre outwards instead
    cx, cy = width / cell / 2, height / cell / 2
    order = sorted(grid, key=lambda c: ((grid[c][0] - cx) ** 2 + (grid[c][1] - cy) ** 2, c))
    taken: set[tuple[int, int]] = set()
    cells = {}
    for code in order:
        cells[code] = _nearest_free(taken, *grid[code])
        taken.add(cells[code])
    return cells


def _edges(groups: dict[tuple[int, int], str | None]) -> tuple[Edge, ...]:
    """Cell sides whose other side is another group or nothing."""
    edges = []
    for (col, row), group in groups.items():
        for dc, dr in NEIGHBOURS:
            other = (col + dc, row + dr)
            if other in groups and groups[other] == group:
                continue
            if other in groups and (dc < 0 or dr < 0):
                continue  # a side shared by two tiles is drawn once
            if dc:
                x = col + (1 if dc > 0 else 0)
                edges.append(Edge((x, row), (x, row + 1)))
            else:
                y = row + (1 if dr > 0 else 0)
                edges.append(Edge((col, y), (col + 1, y)))
    return tuple(edges)


@lru_cache(maxsize=2)
def layout(division: str) -> Layout:
    """The division's tiles on a grid starting at (0, 0), and the outlines."""
    units = sorted(load_units().communes(division).values(), key=lambda u: u.code)
    cells = _place(units)
    left = min(c for c, _ in cells.values())
    top = min(r for _, r in cells.values())
    tiles = tuple(Tile(u.code, cells[u.code][0] - left, cells[u.code][1] - top,
                       u.district if division == OLD else None) for u in units)
    groups = {(t.col, t.row): t.group for t in tiles}
    return Layout(division, max(t.col for t in tiles) + 1, max(t.row for t in tiles) + 1,
                  tiles, _edges(groups))
