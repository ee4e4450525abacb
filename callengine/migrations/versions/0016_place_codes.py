"""official codes of the places people live in

A person's district and commune stay as written; beside them, the official codes of the units
they name (callengine/geo): district_code and commune_code in the division before the 2025
reorganisation (districts abolished, communes merged on 1 July 2025), new_commune_code in the
division after it. NULL when the name matches nothing or several units (`callengine places
check` reports those). Existing rows are filled by `callengine places backfill`.

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

COLUMNS = ("district_code", "commune_code", "new_commune_code")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("people", sa.Column(name, sa.String(length=10), nullable=True))
        op.create_index(f"ix_people_{name}", "people", [name])


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of `people` would have
    # to drop the table that other tables' foreign keys point at.
    for name in reversed(COLUMNS):
        op.drop_index(f"ix_people_{name}", table_name="people")
        op.drop_column("people", name)
