"""proxy_requests: withdrawn by the requester

A requester who mistyped the name or chose the wrong relation could not take her request back: it held her one
open request for that ID number for 7 days. She may now withdraw it (`POST /api/v1/proxies/requests/{id}/withdraw`):
`withdrawn_at` is set, the open key freed, and a grant it left for the person asked is withdrawn too. A withdrawn
request is not one the person "ignored" (which would stop later requests' messages to her).

Revision ID: 0189
Revises: 0188
"""
import sqlalchemy as sa
from alembic import op

revision = "0189"
down_revision = "0188"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("proxy_requests", sa.Column("withdrawn_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("proxy_requests", "withdrawn_at")
