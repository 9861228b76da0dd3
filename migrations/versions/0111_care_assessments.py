"""elderly care service subsidy (经济困难老年人养老服务补贴): care-need assessments (GB/T 42195-2022 levels 0–4)

Revision ID: 0111
Revises: 0110
"""
from alembic import op
import sqlalchemy as sa


revision = "0111"
down_revision = "0110"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "care_assessments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("resident_id", sa.Integer(), sa.ForeignKey("residents.id"), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("assessor", sa.String(64), nullable=False),
        sa.Column("row_digest", sa.String(64), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("source_date", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("resident_id", "assessed_on"),
    )
    op.create_index("ix_care_assessments_resident", "care_assessments", ["resident_id"])


def downgrade() -> None:
    op.drop_table("care_assessments")
