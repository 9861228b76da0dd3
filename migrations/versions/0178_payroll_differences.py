"""payroll lines: the differences paid for months an earlier roll paid (a parameter change approved --arrears)

Revision ID: 0178
Revises: 0175
"""
import sqlalchemy as sa
from alembic import op

revision = "0178"
down_revision = "0175"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payroll_lines", sa.Column("differences", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("payroll_lines", "differences")
