"""provincial scale: engines' heartbeats (servers), the claim lease of attempts, and the
due tasks' claiming order as an index

Revision ID: 0020
Revises: 0019
"""
from alembic import op
import sqlalchemy as sa

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "servers",
        sa.Column("server_id", sa.String(length=64), primary_key=True),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
    )
    op.add_column("call_attempts", sa.Column("lease_until", sa.DateTime(), nullable=True))
    op.create_index("ix_call_tasks_claim_order", "call_tasks",
                    ["status", "day", "next_attempt_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_call_tasks_claim_order", table_name="call_tasks")
    with op.batch_alter_table("call_attempts") as batch:
        batch.drop_column("lease_until")
    op.drop_table("servers")
