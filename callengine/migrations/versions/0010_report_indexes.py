"""indexes for the dashboard and the calls log (the reports' measured hot paths)

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEXES = (
    # the 14-day chart and the calls log: a range on created_at, newest first by (created_at, id)
    ("ix_call_attempts_created_at_id", "call_attempts", ["created_at", "id", "outcome"]),
    # one person's attempts in time order (a person's page, the log filtered to a person)
    ("ix_call_attempts_person_created", "call_attempts", ["person_id", "created_at", "id"]),
    # the day's figures read from the index alone
    ("ix_call_tasks_day_figures", "call_tasks",
     ["day", "person_id", "status", "attempts", "last_outcome", "callback_requested"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
