"""The province's official administrative units and matching written names to them (no Flask).

    from callengine.geo import match_place
    match_place("H. Hoằng Hóa", "X. Hoằng Quỳ").codes()
    # {'district_code': '399', 'commune_code': '15886', 'new_commune_code': '15880'}
"""

from callengine.geo.matching import (
    AMBIGUOUS,
    EMPTY,
    MATCHED,
    UNMATCHED,
    PlaceMatch,
    match_district,
    match_place,
)
from callengine.geo.units import DIVISIONS, NEW, OLD, AdminUnits, Unit, load_units

__all__ = [
    "AMBIGUOUS", "DIVISIONS", "EMPTY", "MATCHED", "NEW", "OLD", "UNMATCHED", "AdminUnits",
    "PlaceMatch", "Unit", "load_units", "match_district", "match_place",
]
