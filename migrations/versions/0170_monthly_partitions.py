"""monthly partitions on PostgreSQL: outbox, audit events, payroll lines, exchange records (issue 17 item 2)

Each table is rebuilt as `PARTITION BY RANGE` on its month key (created_at, ts, month, created_at), its primary
key extended by that key, its rows copied, its indexes, foreign keys and triggers recreated under their names;
a default partition, then one partition per month from the oldest row's month to three months ahead. The
outbox's idempotency key and an exchange record's key must stay unique across months: `unique_keys` holds them,
kept by BEFORE INSERT / BEFORE DELETE triggers (app/partitions.py says why). `archived_partitions` records what
`zerotrip db archive` detached. SQLite gets the two small tables only.

Revision ID: 0170
Revises: 0166
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0170"
down_revision = "0166"
branch_labels = None
depends_on = None

# table → (partition key, primary key column, the unique constraint replaced by unique_keys or widened)
TABLES = {
    "outbox": ("created_at", "id"),
    "audit_events": ("ts", "seq"),
    "payroll_lines": ("month", "id"),
    "exchange_records": ("created_at", "id"),
}
DROPPED_UNIQUES = {"uq_outbox_idempotency_key", "uq_exchange_records_key", "uq_payroll_lines_run_id_benefit_id"}
KEY_TRIGGERS = {
    # table: the key's SQL over NEW/OLD (client ids and dataset codes hold no '|', so the key splits one way)
    "outbox": "{r}.idempotency_key",
    "exchange_records": "{r}.client_id || '|' || {r}.dataset || '|' || {r}.reference_id",
}


def upgrade() -> None:
    op.create_table(
        "unique_keys",
        sa.Column("scope", sa.String(40), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("row_id", sa.String(32), nullable=False),
    )
    op.create_table(
        "archived_partitions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("table_name", sa.String(40), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("detached_as", sa.String(80), nullable=False),
        sa.Column("rows", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("dump_file", sa.String(300), nullable=False),
        sa.Column("dump_sha256", sa.String(64), nullable=False),
        sa.Column("last_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("last_hash", sa.String(64), nullable=True),
        sa.Column("archived_at", sa.DateTime(), nullable=False),
    )
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table, (key, pk) in TABLES.items():
        _partition(bind, table, key, pk)
    for table, expr in KEY_TRIGGERS.items():
        _key_triggers(bind, table, expr)
    from app.partitions import ensure_ahead  # the monthly partitions, rows moved out of the default one

    ensure_ahead(bind, date.today())


def _partition(bind, table: str, key: str, pk: str) -> None:
    x = bind.exec_driver_sql
    indexes = bind.execute(sa.text(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' AND i.tablename = :t "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"), {"t": table}).all()
    uniques = bind.execute(sa.text(
        "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
        "WHERE t.relname = :t AND c.contype = 'u'"), {"t": table}).all()
    foreign = bind.execute(sa.text(
        "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
        "WHERE t.relname = :t AND c.contype = 'f'"), {"t": table}).all()
    triggers = bind.execute(sa.text(
        "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal"),
        {"t": table}).all()
    sequences = bind.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table, "c": pk}).scalar()

    x(f"ALTER TABLE {table} RENAME TO {table}_unpartitioned")
    for name, _ in indexes:
        x(f"ALTER INDEX {name} RENAME TO {name}_unpartitioned")
    for name, _ in uniques:
        x(f"ALTER INDEX {name} RENAME TO {name}_unpartitioned")
    x(f"ALTER INDEX pk_{table} RENAME TO pk_{table}_unpartitioned")
    if sequences:
        x(f"ALTER SEQUENCE {sequences} OWNED BY NONE")

    x(f"CREATE TABLE {table} (LIKE {table}_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE ({key})")
    x(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({pk}, {key})")
    x(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    for name, definition in indexes:
        x(definition.replace(f" ON public.{table}_unpartitioned ", f" ON public.{table} ")
          .replace(f"INDEX {name}_unpartitioned ", f"INDEX {name} "))
    for name, definition in uniques:
        if name == "uq_payroll_lines_run_id_benefit_id":  # one run is one month: the same rule with the key
            x(f"ALTER TABLE {table} ADD CONSTRAINT uq_payroll_lines_run_id_benefit_id_month "
              "UNIQUE (run_id, benefit_id, month)")
        elif name not in DROPPED_UNIQUES:
            x(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for name, definition in foreign:
        x(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    x(f"INSERT INTO {table} SELECT * FROM {table}_unpartitioned")
    if table in KEY_TRIGGERS:
        x(f"INSERT INTO unique_keys (scope, key, row_id) SELECT '{table}', "
          f"{KEY_TRIGGERS[table].format(r=table + '_unpartitioned')}, id FROM {table}_unpartitioned")
    x(f"DROP TABLE {table}_unpartitioned")
    if sequences:
        x(f"ALTER SEQUENCE {sequences} OWNED BY {table}.{pk}")
    for _name, definition in triggers:  # e.g. the audit trail's append-only guard
        x(definition.replace(f" ON public.{table}_unpartitioned ", f" ON public.{table} "))


def _key_triggers(bind, table: str, expr: str) -> None:
    x = bind.exec_driver_sql
    new, old = expr.format(r="NEW"), expr.format(r="OLD")
    x(f"""CREATE OR REPLACE FUNCTION {table}_key_taken() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO unique_keys (scope, key, row_id) VALUES ('{table}', {new}, NEW.id) ON CONFLICT DO NOTHING;
  IF FOUND OR EXISTS (SELECT 1 FROM unique_keys WHERE scope = '{table}' AND key = {new} AND row_id = NEW.id) THEN
    RETURN NEW;  -- a new key, or this very row moved to another month by an UPDATE of its key
  END IF;
  RETURN NULL;  -- another row holds the key: skipped, as ON CONFLICT DO NOTHING skipped it before
END $$""")
    x(f"""CREATE OR REPLACE FUNCTION {table}_key_freed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM unique_keys WHERE scope = '{table}' AND key = {old} AND row_id = OLD.id;
  RETURN OLD;
END $$""")
    x(f"CREATE TRIGGER {table}_key_taken BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_key_taken()")
    x(f"CREATE TRIGGER {table}_key_freed BEFORE DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_key_freed()")


def downgrade() -> None:
    raise NotImplementedError("monthly partitions are not undone: restore a backup taken before 0170")
