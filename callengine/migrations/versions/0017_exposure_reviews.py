"""exposure reviews: a case's contacts found from check-ins, awaiting a supervisor

Also a partial index of the check-ins that name a person, (person_id, checked_in_at): most
check-ins name none, so SQLite's statistics rate the plain person index so poorly that the
exposure query's look-up of a case's own visits would scan the time index instead.

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exposure_reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("reference_at", sa.DateTime(), nullable=False),
        sa.Column("isolated_at", sa.DateTime(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("window_end", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_by", sa.String(length=100)),
        sa.Column("confirmed_at", sa.DateTime()),
        sa.Column("batch_id", sa.Integer(),
                  sa.ForeignKey("import_batches.id", name="fk_exposure_reviews_batch_id")),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.UniqueConstraint("person_id", "source", name="uq_exposure_reviews_person_source"),
    )
    op.create_index("ix_exposure_reviews_person_id", "exposure_reviews", ["person_id"])
    op.create_index("ix_exposure_reviews_status_created", "exposure_reviews",
                    ["status", "created_at"])
    known = sa.text("person_id IS NOT NULL")
    op.create_index("ix_checkins_known_person_at", "checkins", ["person_id", "checked_in_at"],
                    sqlite_where=known, postgresql_where=known)


def downgrade() -> None:
    op.drop_index("ix_checkins_known_person_at", table_name="checkins")
    op.drop_table("exposure_reviews")
