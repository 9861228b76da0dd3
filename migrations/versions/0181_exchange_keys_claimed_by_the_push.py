"""exchange_records on PostgreSQL: the push claims its records' keys in one statement; statement-level guards

Since 0170 a per-row BEFORE INSERT trigger (plpgsql) kept an exchange record's key (client, dataset, reference
id) unique across the monthly partitions by inserting it into `unique_keys`, row by row (with the executemany
insert ≈ 27 ms per 1,000-record message; the claim and the set-based insert below take ≈ 5 + 9 ms). Now the
writer claims the keys of a whole message first (`app.partitions.claim_keys`: one `INSERT … ON CONFLICT DO
NOTHING RETURNING` into `unique_keys`) and inserts only the rows whose key it won; a second push of the same key,
also a concurrent one, waits for the first and wins nothing, as before. The row triggers are replaced by two
statement-level triggers with transition tables:

- `exchange_records_keys_held` (AFTER INSERT): every inserted row must hold its key in `unique_keys`, else the
  statement fails with unique_violation on `uq_exchange_records_key` (a writer that forgot to claim its key, or
  a key another row holds) — one set-based check per statement instead of one function call per row;
- `exchange_records_keys_freed` (AFTER DELETE): a deleted row's key is free again, as before. An UPDATE that moves
  a row to another month fires neither (PostgreSQL fires only the UPDATE's statement triggers), so the row keeps
  its key; `zerotrip db archive` detaches months without deleting, so an archived record's key stays.

The outbox keeps its row triggers (its writers are many and use ON CONFLICT DO NOTHING semantics). SQLite keeps its
unique constraint and has none of this.

Revision ID: 0181
Revises: 0180
"""
from alembic import op

revision = "0181"
down_revision = "0180"
branch_labels = None
depends_on = None

KEY = "{r}.client_id || '|' || {r}.dataset || '|' || {r}.reference_id"  # as 0170 and app.partitions spell it

HELD = f"""CREATE FUNCTION exchange_records_keys_held() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- one index probe per row (LATERAL … LIMIT 1), whatever the planner guesses of the transition table
  IF EXISTS (SELECT 1 FROM new_rows n LEFT JOIN LATERAL (
               SELECT k.row_id FROM unique_keys k
                WHERE k.scope = 'exchange_records' AND k.key = {KEY.format(r='n')} LIMIT 1) k ON true
             WHERE k.row_id IS DISTINCT FROM n.id) THEN
    RAISE EXCEPTION 'duplicate key value violates unique constraint "uq_exchange_records_key"'
      USING ERRCODE = 'unique_violation', CONSTRAINT = 'uq_exchange_records_key', TABLE = 'exchange_records',
            HINT = 'claim the keys first (app.partitions.claim_keys)';
  END IF;
  RETURN NULL;
END $$"""
FREED = f"""CREATE FUNCTION exchange_records_keys_freed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM unique_keys k USING old_rows o
   WHERE k.scope = 'exchange_records' AND k.key = {KEY.format(r='o')} AND k.row_id = o.id;
  RETURN NULL;
END $$"""

# 0170's row triggers, for the downgrade
TAKEN_0170 = f"""CREATE FUNCTION exchange_records_key_taken() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO unique_keys (scope, key, row_id) VALUES ('exchange_records', {KEY.format(r='NEW')}, NEW.id)
    ON CONFLICT DO NOTHING;
  IF FOUND OR EXISTS (SELECT 1 FROM unique_keys WHERE scope = 'exchange_records' AND key = {KEY.format(r='NEW')}
                      AND row_id = NEW.id) THEN
    RETURN NEW;  -- a new key, or this very row moved to another month by an UPDATE of its key
  END IF;
  RETURN NULL;  -- another row holds the key: skipped, as ON CONFLICT DO NOTHING skipped it before
END $$"""
FREED_0170 = f"""CREATE FUNCTION exchange_records_key_freed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM unique_keys WHERE scope = 'exchange_records' AND key = {KEY.format(r='OLD')} AND row_id = OLD.id;
  RETURN OLD;
END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER exchange_records_key_taken ON exchange_records")
    op.execute("DROP TRIGGER exchange_records_key_freed ON exchange_records")
    op.execute("DROP FUNCTION exchange_records_key_taken()")
    op.execute("DROP FUNCTION exchange_records_key_freed()")
    op.execute(HELD)
    op.execute(FREED)
    op.execute("CREATE TRIGGER exchange_records_keys_held AFTER INSERT ON exchange_records "
               "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION exchange_records_keys_held()")
    op.execute("CREATE TRIGGER exchange_records_keys_freed AFTER DELETE ON exchange_records "
               "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION exchange_records_keys_freed()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER exchange_records_keys_held ON exchange_records")
    op.execute("DROP TRIGGER exchange_records_keys_freed ON exchange_records")
    op.execute("DROP FUNCTION exchange_records_keys_held()")
    op.execute("DROP FUNCTION exchange_records_keys_freed()")
    op.execute(TAKEN_0170)
    op.execute(FREED_0170)
    op.execute("CREATE TRIGGER exchange_records_key_taken BEFORE INSERT ON exchange_records "
               "FOR EACH ROW EXECUTE FUNCTION exchange_records_key_taken()")
    op.execute("CREATE TRIGGER exchange_records_key_freed BEFORE DELETE ON exchange_records "
               "FOR EACH ROW EXECUTE FUNCTION exchange_records_key_freed()")
