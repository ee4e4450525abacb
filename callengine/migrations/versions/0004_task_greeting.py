"""greeting by name: the sound each day's call plays before the intro

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("greeting", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_tasks", schema=None) as batch_op:
        batch_op.drop_column("greeting")
