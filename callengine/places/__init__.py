"""People's places against the official administrative list: the codes a writer stores, the
check of names that match nothing, and the backfill of rows stored before the codes existed."""

from callengine.places.service import (
    PlaceCheck,
    PlaceProblem,
    backfill_place_codes,
    check_places,
    place_codes,
)

__all__ = ["PlaceCheck", "PlaceProblem", "backfill_place_codes", "check_places", "place_codes"]
