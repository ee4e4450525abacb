"""import previews (web uploads validated, then committed) and who did each import

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_previews",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("list_date", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=10), nullable=True),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_import_previews_status_expires", "import_previews",
                    ["status", "expires_at"])
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("preview_id", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_import_batches_preview_id", ["preview_id"], unique=False)
        batch_op.create_foreign_key("fk_import_batches_preview_id", "import_previews",
                                    ["preview_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_constraint("fk_import_batches_preview_id", type_="foreignkey")
        batch_op.drop_index("ix_import_batches_preview_id")
        batch_op.drop_column("preview_id")
        batch_op.drop_column("created_by")
    op.drop_index("ix_import_previews_status_expires", table_name="import_previews")
    op.drop_table("import_previews")
