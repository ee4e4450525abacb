"""URL converters: `<int:...>` in every route matches only ids a database row can have."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ROW_ID = 2**63 - 1  # the largest BIGINT; SQLite and PostgreSQL overflow beyond it


class RowId(IntegerConverter):
    """An unsigned integer no larger than MAX_ROW_ID; any other path is a 404, not a 500."""

    # At most 18 digits in the pattern itself, so a longer number matches no rule at all: a
    # value refused only by `max` would make werkzeug answer a GET with 405 when the same
    # path also has a POST rule. No row id reaches 10**18.
    regex = r"\d{1,18}"

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def configure(app) -> None:
    """Before any blueprint is registered: rules bind their converters when added."""
    app.url_map.converters["int"] = RowId
