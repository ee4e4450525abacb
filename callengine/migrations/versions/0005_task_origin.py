"""why a task exists: the daily plan, or a manual call the plan must leave alone

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=10), nullable=False,
                                      server_default="plan"))


def downgrade() -> None:
    with op.batch_alter_table("call_tasks", schema=None) as batch_op:
        batch_op.drop_column("origin")
