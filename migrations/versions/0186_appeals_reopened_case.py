"""appeals: whether an upheld appeal re-opened its case

A case an upheld appeal re-opened is decided anew, and that decision had neither a message nor a letter of its
own: the rejection's message key (`application:<id>:rejected`) was already taken, so the resident was never told
the case was refused again, and the first letter's delivery counted for the new decision (nothing waited to be
sent). The appeal that re-opened the case now names the next decision (flows.decision_round). Appeals decided
before this migration are left as not having re-opened anything: their cases' later decisions keep the keys they
had.

Revision ID: 0186
Revises: 0185
"""
import sqlalchemy as sa
from alembic import op

revision = "0186"
down_revision = "0185"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("appeals", sa.Column("reopened_case", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_appeals_reopened", "appeals", ["application_id"], postgresql_where=sa.text("reopened_case"),
                    sqlite_where=sa.text("reopened_case"))


def downgrade() -> None:
    op.drop_index("ix_appeals_reopened", table_name="appeals")
    op.drop_column("appeals", "reopened_case")
