"""flags raised by health records, not by a call

A venue check-in's declaration, a positive test or a pooled sample's member needing a test of
their own raises a flag with no call task: task_id becomes nullable, `reference` names the
record (e.g. "sample:A123"; unique per kind, so raising twice finds the first flag) and `day`
keeps the day the flag belongs to (a call's day, backfilled from the tasks).

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("day", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("reference", sa.String(length=80), nullable=True))
    op.execute("UPDATE flags SET day = (SELECT call_tasks.day FROM call_tasks "
               "WHERE call_tasks.id = flags.task_id)")
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.alter_column("day", existing_type=sa.Date(), nullable=False)
        batch_op.alter_column("task_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_unique_constraint("uq_flags_kind_reference", ["kind", "reference"])


def downgrade() -> None:
    op.execute("DELETE FROM flag_events WHERE flag_id IN "
               "(SELECT id FROM flags WHERE task_id IS NULL)")
    op.execute("DELETE FROM flags WHERE task_id IS NULL")
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_constraint("uq_flags_kind_reference", type_="unique")
        batch_op.alter_column("task_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("reference")
        batch_op.drop_column("day")
