"""campaign control read by every engine

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_DURATIONS = ("retry_busy", "retry_no_answer", "retry_congestion", "retry_congestion_max",
              "retry_partial", "retry_rejected", "retry_failed")


def upgrade() -> None:
    table = op.create_table(
        "campaign_settings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("revision", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("paused_by", sa.String(length=100)),
        sa.Column("paused_at", sa.DateTime()),
        sa.Column("call_window", sa.String(length=20)),
        sa.Column("max_attempts_per_day", sa.Integer()),
        *(sa.Column(name, sa.Float()) for name in _DURATIONS),
        sa.Column("trunk_limits", sa.JSON()),
        sa.Column("updated_at", sa.DateTime()),
        sa.Column("updated_by", sa.String(length=100)),
        sa.CheckConstraint("id = 1", name="ck_campaign_settings_one_row"),
    )
    op.bulk_insert(table, [{"id": 1, "revision": 0, "paused": False}])


def downgrade() -> None:
    op.drop_table("campaign_settings")
