"""flag history, assignment and person closure

Flags gain who works them (assigned_to), a version for optimistic concurrency (two
supervisors acting at once: one wins), the last action and when it happened. flag_events is
a flag's history; person_events a person's (closed, reopened, phone corrected, call now).
People get the indexes the supervisors' search needs; on PostgreSQL, trigram indexes (pg_trgm,
when the server offers it) make name and alternate-phone matching fast.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TRIGRAM_INDEXES = {"ix_people_name_key_trgm": "name_key", "ix_people_alt_phones_trgm": "alt_phones"}


def upgrade() -> None:
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_to", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False,
                                      server_default="1"))
        batch_op.add_column(sa.Column("action", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_flags_queue", ["status", "urgent", "created_at", "id"])
        batch_op.create_index("ix_flags_assigned_to", ["assigned_to", "status"])
    op.create_table(
        "flag_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flag_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("effect", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["flag_id"], ["flags.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_flag_events_flag_id", "flag_events", ["flag_id"])
    op.create_table(
        "person_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("old_value", sa.String(length=200), nullable=True),
        sa.Column("new_value", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_person_events_person_id", "person_events", ["person_id"])
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index("ix_people_name_key_id", ["name_key", "id"])
        batch_op.create_index("ix_people_district_commune", ["district", "commune"])
        batch_op.create_index("ix_people_status_name_key", ["status", "name_key", "id"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and _trigram_available(bind):
        for name, column in TRIGRAM_INDEXES.items():
            op.execute(f"CREATE INDEX {name} ON people USING gin ({column} gin_trgm_ops)")


def _trigram_available(bind) -> bool:
    """Create pg_trgm if the server has it and we may (a savepoint keeps a refusal harmless)."""
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        return True
    except sa.exc.DBAPIError:
        return False


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index("ix_people_status_name_key")
        batch_op.drop_index("ix_people_district_commune")
        batch_op.drop_index("ix_people_name_key_id")
    op.drop_index("ix_person_events_person_id", table_name="person_events")
    op.drop_table("person_events")
    op.drop_index("ix_flag_events_flag_id", table_name="flag_events")
    op.drop_table("flag_events")
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_index("ix_flags_assigned_to")
        batch_op.drop_index("ix_flags_queue")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("action")
        batch_op.drop_column("version")
        batch_op.drop_column("assigned_to")
