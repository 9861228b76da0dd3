"""audit_head: the last event's previous hash and time beside its seq and hash

On PostgreSQL an append is one statement (app/audit.py): the UPDATE of the head row takes the lock that
serialises the chain, computes the new event's hash in SQL and returns the seq, previous hash, time and hash
that the same statement's INSERTs store in audit_events. An UPDATE's RETURNING sees only the new row, so the
previous hash and the time it chose are kept on the head. Nullable: SQLite's appends (and a head from before
this revision) leave them empty until the next PostgreSQL append.

Revision ID: 0181
Revises: 0180
"""
import sqlalchemy as sa
from alembic import op

revision = "0181"
down_revision = "0180"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("ts", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("ts")
        batch.drop_column("prev_hash")
