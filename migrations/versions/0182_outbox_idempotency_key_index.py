"""outbox: an index on the idempotency key on PostgreSQL

On PostgreSQL the monthly partitions (0170) dropped the unique constraint `uq_outbox_idempotency_key` (its
uniqueness is kept across months in `unique_keys`), and with it the only index on the key: every `enqueue`
(notifications/outbox.py) asks whether its key exists, and that became a sequential scan of every month of the
outbox — found by sampling `pg_stat_activity` during benchmarks/api.py's confirm (30,000 outbox rows: a scan per
confirm; at city scale millions). This plain partitioned index (each month's partition gets its own, also when a
month is attached later) makes it an index probe again, as 0180 did for the exchange record's key. SQLite keeps
the unique constraint, which is its index.

Revision ID: 0182
Revises: 0181
"""
from alembic import op

revision = "0182"
down_revision = "0181"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_outbox_idempotency_key ON outbox (idempotency_key)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_outbox_idempotency_key")
