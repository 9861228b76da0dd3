"""counter visits (帮办): one row per resident's trip to an office (issue 13 item 1)

Revision ID: 0165
Revises: 0161
"""
from alembic import op
import sqlalchemy as sa


revision = "0165"
down_revision = "0161"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "counter_visits",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("office_code", sa.String(length=12), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_counter_visits_visited_on", "counter_visits", ["visited_on"], unique=False)
    op.create_index("ix_counter_visits_resident", "counter_visits", ["resident_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_counter_visits_resident", table_name="counter_visits")
    op.drop_index("ix_counter_visits_visited_on", table_name="counter_visits")
    op.drop_table("counter_visits")
