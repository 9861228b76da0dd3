"""exchange_records: an index on the record's key (client, dataset, reference id) on PostgreSQL

On PostgreSQL the monthly partitions (0170) dropped the unique constraint `uq_exchange_records_key` (its
uniqueness is kept across months in `unique_keys`), and with it the only index on the key: the push's
idempotency look-up (flows/exchange/push.py) scanned every pushed record, twice per 1,000-record message. This
plain partitioned index (each month's partition gets its own, also when a month is attached later) makes it an
index probe again. SQLite keeps the unique constraint, which is its index.

Revision ID: 0180
Revises: 0179
"""
from alembic import op


revision = "0180"
down_revision = "0179"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_exchange_records_key ON exchange_records (client_id, dataset, reference_id)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_exchange_records_key")
