"""plan runs: each run of the daily plan, one scheduled or catch-up run per day

Revision ID: 0021
Revises: 0020
"""
from alembic import op
import sqlalchemy as sa

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("daily_day", sa.Date(), unique=True),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime()),
        sa.Column("created", sa.Integer()),
        sa.Column("ended", sa.Integer()),
        sa.Column("cancelled", sa.Integer()),
        sa.Column("detail", sa.String(length=200)),
    )
    op.create_index("ix_plan_runs_day", "plan_runs", ["day"])


def downgrade() -> None:
    op.drop_index("ix_plan_runs_day", table_name="plan_runs")
    op.drop_table("plan_runs")
