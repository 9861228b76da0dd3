"""letter deliveries (送达): a decision or stop letter handed over, posted or left by staff (issue 12 item 5)

Revision ID: 0175
Revises: 0170
"""
from alembic import op
import sqlalchemy as sa


revision = "0175"
down_revision = "0170"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "letter_deliveries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("letter_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("letter_id"),
    )
    op.create_index("ix_letter_deliveries_resident", "letter_deliveries", ["resident_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_letter_deliveries_resident", table_name="letter_deliveries")
    op.drop_table("letter_deliveries")
