"""The tile cartogram: one cell per commune, near where the commune lies."""

from __future__ import annotations

import pytest

from callengine.geo import NEW, OLD, load_units
from callengine.geo.cartogram import layout

MUONG_LAT, SAM_SON = "384", "382"  # the western mountains; the eastern coast


@pytest.mark.parametrize("division, communes", [(OLD, 547), (NEW, 166)])
def test_every_commune_has_its_own_cell_on_the_grid(division, communes):
    grid = layout(division)
    cells = {(t.col, t.row) for t in grid.tiles}
    assert len(grid.tiles) == len(cells) == communes
    assert {t.code for t in grid.tiles} == set(load_units().communes(division))
    assert all(0 <= t.col < grid.cols and 0 <= t.row < grid.rows for t in grid.tiles)


def test_communes_keep_their_place_west_to_east_and_north_to_south():
    grid = layout(OLD)
    west = [t.col for t in grid.tiles if t.group == MUONG_LAT]
    coast = [t.col for t in grid.tiles if t.group == SAM_SON]
    assert max(west) < grid.cols / 3 and min(coast) > grid.cols * 2 / 3
    units = load_units().old
    north = max(grid.tiles, key=lambda t: units[t.code].lat)
    south = min(grid.tiles, key=lambda t: units[t.code].lat)
    assert north.row < grid.rows / 4 and south.row > grid.rows * 3 / 4


def test_outlines_separate_districts_and_close_the_province():
    grid = layout(OLD)
    tiles = {(t.col, t.row): t.group for t in grid.tiles}
    edges = {(e.start, e.end) for e in grid.edges}
    for (col, row), group in tiles.items():
        right = tiles.get((col + 1, row), "outside")
        drawn = ((col + 1, row), (col + 1, row + 1)) in edges
        assert drawn == (right != group)
