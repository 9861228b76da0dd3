"""benefits: the last month the old manual process paid a legacy benefit

A legacy beneficiary (imported: paid under the old manual process) was paid by the first roll for every month
since the benefit's start month, as arrears: years the old process had already paid, paid again. The import's
optional `paid_through` column (YYYY-MM) now says up to which month the old process paid; the roll pays from
the month after. Benefits imported before this migration have none, and are paid as before.

Revision ID: 0188
Revises: 0187
"""
import sqlalchemy as sa
from alembic import op

revision = "0188"
down_revision = "0187"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("benefits", sa.Column("legacy_paid_through", sa.String(7), nullable=True))


def downgrade() -> None:
    op.drop_column("benefits", "legacy_paid_through")
