"""venues carry the official codes of their district and commune, like people

Written beside the names by the one writer of a venue's values (callengine/health/venues.py
through callengine/places.place_codes), so the map and the district lists count a venue once
however its commune is spelt.

Revision ID: 0018
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

COLUMNS = ("district_code", "commune_code", "new_commune_code")
INDEXED = ("commune_code", "new_commune_code")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("venues", sa.Column(name, sa.String(length=10), nullable=True))
    for name in INDEXED:
        op.create_index(f"ix_venues_{name}", "venues", [name])


def downgrade() -> None:
    for name in INDEXED:
        op.drop_index(f"ix_venues_{name}", table_name="venues")
    for name in reversed(COLUMNS):
        op.drop_column("venues", name)
