"""venues with their QR tokens, retired tokens, and check-ins with the health declaration

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_DECLARATION = ("fever", "cough", "breath", "taste_smell", "contact_f0", "travel")


def upgrade() -> None:
    op.create_table(
        "venues",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("address", sa.String(length=300), nullable=False, server_default=""),
        sa.Column("district", sa.String(length=100)),
        sa.Column("commune", sa.String(length=100)),
        sa.Column("kind", sa.String(length=20), nullable=False, server_default="other"),
        sa.Column("contact_name", sa.String(length=200)),
        sa.Column("contact_phone", sa.String(length=20)),
        sa.Column("latitude", sa.Float()),
        sa.Column("longitude", sa.Float()),
        sa.Column("stay_minutes", sa.Integer()),
        sa.Column("token", sa.String(length=64), nullable=False, unique=True),
        sa.Column("token_rotated_at", sa.DateTime()),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100)),
    )
    op.create_index("ix_venues_district_commune", "venues", ["district", "commune"])
    op.create_index("ix_venues_name_key_id", "venues", ["name_key", "id"])
    op.create_table(
        "venue_retired_tokens",
        sa.Column("token", sa.String(length=64), primary_key=True),
        sa.Column("venue_id", sa.Integer(), sa.ForeignKey("venues.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("retired_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_venue_retired_tokens_venue_id", "venue_retired_tokens", ["venue_id"])
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("venue_id", sa.Integer(), sa.ForeignKey("venues.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id")),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("national_id", sa.String(length=20)),
        sa.Column("checked_in_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False, server_default="1"),
        *(sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())
          for name in _DECLARATION),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_checkins_venue_at", "checkins", ["venue_id", "checked_in_at"])
    op.create_index("ix_checkins_phone_at", "checkins", ["phone", "checked_in_at"])
    op.create_index("ix_checkins_person", "checkins", ["person_id"])
    op.create_index("ix_checkins_at", "checkins", ["checked_in_at"])


def downgrade() -> None:
    op.drop_table("checkins")
    op.drop_table("venue_retired_tokens")
    op.drop_table("venues")
