"""Past imports, newest first: one item per imported file, with who uploaded and committed it.

Paged by keyset on import_batches.id (the cursor is the last id of a page), never OFFSET.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import select

from callengine.clock import from_db
from callengine.store.db import Database
from callengine.store.models import ImportBatch, ImportPreview

MAX_LIMIT = 200


@dataclass(frozen=True)
class HistoryItem:
    """One imported file: when, by whom, and what it did."""

    id: int  # import_batches.id
    file_name: str
    list_date: date
    category: str | None
    created_at: datetime  # aware UTC: when it was imported
    created_by: str | None  # who imported it (None: the command line)
    uploaded_by: str | None  # who uploaded the preview it came from
    preview_id: str | None
    rows: int
    created: int
    updated: int
    rejected: int
    skipped: int

    def to_dict(self) -> dict:
        data = asdict(self)
        data["list_date"] = self.list_date.isoformat()
        data["created_at"] = self.created_at.isoformat()
        return data


@dataclass(frozen=True)
class HistoryPage:
    items: list[HistoryItem]
    next: int | None  # pass as `after` for the next page; None on the last page

    def to_dict(self) -> dict:
        return {"items": [i.to_dict() for i in self.items], "next": self.next}


def history(db: Database, *, after: int | None = None, limit: int = 50) -> HistoryPage:
    """Imported files older than the cursor `after`, newest first, at most `limit`."""
    limit = max(1, min(limit, MAX_LIMIT))
    batch = ImportBatch.__table__.c
    query = (select(ImportBatch.__table__, ImportPreview.created_by.label("uploaded_by"))
             .outerjoin(ImportPreview, ImportPreview.id == batch.preview_id)
             .order_by(batch.id.desc()).limit(limit + 1))
    if after is not None:
        query = query.where(batch.id < after)
    with db.session() as session:
        rows = session.execute(query).mappings().all()
    items = [_item(row) for row in rows[:limit]]
    return HistoryPage(items, items[-1].id if len(rows) > limit else None)


def _item(row) -> HistoryItem:
    return HistoryItem(
        id=row["id"], file_name=row["file_name"], list_date=row["list_date"],
        category=row["category"], created_at=from_db(row["created_at"]),
        created_by=row["created_by"], uploaded_by=row["uploaded_by"],
        preview_id=row["preview_id"], rows=row["rows"], created=row["created"],
        updated=row["updated"], rejected=row["rejected"], skipped=row["skipped"])
