"""appeals (复核, issue 13 item 2): one open appeal per decision, a working-day limit swept daily

Revision ID: 0160
Revises: 0150
"""
from alembic import op
import sqlalchemy as sa


revision = "0160"
down_revision = "0150"
branch_labels = None
depends_on = None

OPEN = "state IN ('received', 'reviewing')"


def upgrade() -> None:
    op.create_table(
        "appeals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("decision_key", sa.String(length=80), nullable=False),
        sa.Column("application_id", sa.String(length=32), nullable=True),
        sa.Column("benefit_id", sa.String(length=32), nullable=True),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(length=40), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("filed_by", sa.String(length=80), nullable=False),
        sa.Column("filed_via", sa.String(length=16), nullable=False),
        sa.Column("grant_id", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("reviewer_id", sa.String(length=32), nullable=True),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.Column("urged_on", sa.Date(), nullable=True),
        sa.Column("escalated_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_appeals_open", "appeals", ["decision_key"], unique=True,
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
    op.create_index("ix_appeals_resident", "appeals", ["resident_id"])
    op.create_index("ix_appeals_open_due", "appeals", ["state", "due_on"])


def downgrade() -> None:
    op.drop_table("appeals")
