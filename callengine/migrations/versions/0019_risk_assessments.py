"""business risk self-assessment: venues' assessment link tokens and their assessments

Revision ID: 0019
Revises: 0018
"""
from alembic import op
import sqlalchemy as sa

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "venue_risk_tokens",
        sa.Column("token", sa.String(length=64), primary_key=True),
        sa.Column("venue_id", sa.Integer(), sa.ForeignKey("venues.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("retired_at", sa.DateTime()),
    )
    op.create_index("ix_venue_risk_tokens_venue", "venue_risk_tokens",
                    ["venue_id", "retired_at"])
    op.create_table(
        "risk_assessments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("venue_id", sa.Integer(), sa.ForeignKey("venues.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("criteria_id", sa.String(length=40), nullable=False),
        sa.Column("criteria_version", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("index_percent", sa.Float(), nullable=False),
        sa.Column("band", sa.String(length=20), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_risk_assessments_venue_at", "risk_assessments",
                    ["venue_id", "submitted_at", "id"])


def downgrade() -> None:
    op.drop_table("risk_assessments")
    op.drop_table("venue_risk_tokens")
