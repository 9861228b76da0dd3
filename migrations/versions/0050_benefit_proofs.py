"""benefit_proofs: signed proof-of-benefit codes (issue 15 item 2), for their online status by certificate id

Revision ID: 0050
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa


revision = "0050"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "benefit_proofs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("benefit_id", sa.String(length=32), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(length=40), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("alg", sa.String(length=16), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by", sa.String(length=80), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["benefit_id"], ["benefits.id"]),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_benefit_proofs_benefit", "benefit_proofs", ["benefit_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_benefit_proofs_benefit", table_name="benefit_proofs")
    op.drop_table("benefit_proofs")
