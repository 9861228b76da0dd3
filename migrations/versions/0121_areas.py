"""areas (issue 12 item 10): names of districts, streets and communities with validity dates

Revision ID: 0121
Revises: 0120
"""
from alembic import op
import sqlalchemy as sa


revision = "0121"
down_revision = "0120"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "areas",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("parent_code", sa.String(length=12), nullable=True),
        sa.PrimaryKeyConstraint("code", "valid_from"),
    )


def downgrade() -> None:
    op.drop_table("areas")
