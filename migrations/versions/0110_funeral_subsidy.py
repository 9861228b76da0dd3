"""funeral subsidy (惠民殡葬补贴): cremation records; applicants who are not the subject; one-off payments

Revision ID: 0110
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa


revision = "0110"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cremation_records",
        sa.Column("resident_id", sa.Integer(), sa.ForeignKey("residents.id"), primary_key=True),
        sa.Column("funeral_home", sa.String(64), nullable=False),
        sa.Column("cremation_date", sa.Date(), nullable=False),
        sa.Column("arranger_resident_id", sa.Integer(), sa.ForeignKey("residents.id"), nullable=True),
        sa.Column("arranger_name", sa.String(64), nullable=False),
        sa.Column("arranger_id_mask", sa.String(24), nullable=False),
        sa.Column("arranger_phone_mask", sa.String(16), nullable=True),
        sa.Column("services", sa.String(64), nullable=False),
        sa.Column("waived_fen", sa.Integer(), nullable=False),
        sa.Column("row_digest", sa.String(64), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("source_date", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_cremation_records_arranger", "cremation_records", ["arranger_resident_id"])
    op.create_table(
        "application_applicants",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("application_id", sa.String(32), nullable=False),
        sa.Column("resident_id", sa.Integer(), sa.ForeignKey("residents.id"), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("application_id", "resident_id"),
    )
    op.create_index("ix_application_applicants_application_id", "application_applicants", ["application_id"])
    op.create_index("ix_application_applicants_resident", "application_applicants", ["resident_id"])
    op.create_table(
        "one_off_payments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("program", sa.String(40), nullable=False),
        sa.Column("key", sa.String(120), nullable=False, unique=True),
        sa.Column("payee_resident_id", sa.Integer(), sa.ForeignKey("residents.id"), nullable=False),
        sa.Column("subject_resident_id", sa.Integer(), nullable=True),
        sa.Column("application_id", sa.String(32), nullable=True),
        sa.Column("cause_ref", sa.String(64), nullable=True),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("covers_month", sa.String(7), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("paid_in_month", sa.String(7), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_one_off_payments_state", "one_off_payments", ["state"])


def downgrade() -> None:
    op.drop_table("one_off_payments")
    op.drop_table("application_applicants")
    op.drop_table("cremation_records")
