"""areas: an office's reception phone (接待电话) and address, printed on the counter receipt (issue 13 item 1)

Revision ID: 0179
Revises: 0178
"""
from alembic import op
import sqlalchemy as sa


revision = "0179"
down_revision = "0178"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("areas") as batch:
        batch.add_column(sa.Column("office_phone", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("office_address", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("areas") as batch:
        batch.drop_column("office_address")
        batch.drop_column("office_phone")
