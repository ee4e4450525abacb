"""samples and lab results

Samples (RT-PCR, rapid antigen, pooled) with their code (unique), where and when they were
taken, and the result once known; the members of pooled samples; one row per imported
sample or result workbook.

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sample_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("site", sa.String(length=200), nullable=True),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("result", sa.String(length=20), nullable=True),
        sa.Column("ct_value", sa.Float(), nullable=True),
        sa.Column("result_at", sa.DateTime(), nullable=True),
        sa.Column("result_import_id", sa.Integer(), nullable=True),
        sa.Column("result_by", sa.String(length=100), nullable=True),
        sa.Column("result_entered_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.ForeignKeyConstraint(["import_id"], ["sample_imports.id"]),
        sa.ForeignKeyConstraint(["result_import_id"], ["sample_imports.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index("ix_samples_person_id", "samples", ["person_id"])
    op.create_index("ix_samples_taken_at", "samples", ["taken_at"])
    op.create_index("ix_samples_result", "samples", ["result", "result_at"])
    op.create_table(
        "sample_pool_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=True),
        sa.Column("retest_requested_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["pool_id"], ["samples.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.ForeignKeyConstraint(["sample_id"], ["samples.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pool_id", "person_id"),
    )
    op.create_index("ix_sample_pool_members_pool_id", "sample_pool_members", ["pool_id"])
    op.create_index("ix_sample_pool_members_person_id", "sample_pool_members", ["person_id"])


def downgrade() -> None:
    op.drop_table("sample_pool_members")
    op.drop_table("samples")
    op.drop_table("sample_imports")
