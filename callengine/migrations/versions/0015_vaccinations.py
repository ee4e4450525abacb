"""vaccination doses

One row per dose: the product and manufacturer by their EU DCC codes, lot, dose number
(unique per person), date, site, the opaque part of the certificate's UVCI (unique), who
entered it and the import batch it came from.

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vaccination_doses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=60), nullable=False),
        sa.Column("manufacturer", sa.String(length=60), nullable=False),
        sa.Column("lot", sa.String(length=60), nullable=False),
        sa.Column("dose_number", sa.Integer(), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("site", sa.String(length=200), nullable=False),
        sa.Column("certificate_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batches.id"],
                                name="fk_vaccination_doses_batch_id"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "dose_number", name="uq_vaccination_doses_person_dose"),
        sa.UniqueConstraint("certificate_id"),
    )
    op.create_index("ix_vaccination_doses_person_date", "vaccination_doses",
                    ["person_id", "given_on"])
    op.create_index("ix_vaccination_doses_batch_id", "vaccination_doses", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_vaccination_doses_batch_id", table_name="vaccination_doses")
    op.drop_index("ix_vaccination_doses_person_date", table_name="vaccination_doses")
    op.drop_table("vaccination_doses")
