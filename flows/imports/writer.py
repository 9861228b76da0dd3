"""Bulk upsert of validated residents (SQLAlchemy Core executemany, one transaction per batch).

Existing rows are found in bulk by keyed ID hash; a row whose business fields hash (`row_hash`) is the same is
not written at all, so `updated_at` only moves when something changed (the scans rely on it). On a first load
(`all_new`: the table was empty when the load began, `first_load.FirstLoad`) there is nothing to find, and the
look-up is skipped: a batch goes straight in. Should another writer have inserted one of its residents meanwhile,
the unique ID hash refuses the batch, its transaction rolls back, and it is written again with the look-up, as
every later batch of that writer.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice

from sqlalchemy import String, any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine

from app import idnumbers
from app.crypto import FieldCipher
from app.db import utcnow
from app.models.resident import Resident
from app.sql import binary_copy_types, copy_rows
from flows.conflicts import is_unique_violation

SOURCE = "population_registry"
BATCH_ROWS = 10_000
# A bigger page cache for the connection that writes: the random-keyed id_hash index otherwise thrashes the
# default 2 MiB cache once the table has a few hundred thousand rows (limits.md: 65 k → 129 k rows/s).
SQLITE_CACHE = "PRAGMA cache_size = -262144"
_T = Resident.__table__
_WRITTEN = ("id_enc", "id_mask", "name", "sex", "birth_date", "household_id", "relation_to_head",
            "district_code", "street_code", "community_code", "hukou_local", "phone_hash", "phone_enc",
            "death_date", "row_hash", "source", "source_date", "updated_at")
_COPIED = ("id_hash", *_WRITTEN)
_UPDATED = _COPIED  # an update re-keys the ID hash too: a row found under an earlier key of the ring
# SQLite: the batch's hashes as one JSON parameter (json_each) on the driver, not 10,000 placeholders compiled
_RAW_LOOKUP = "SELECT id_hash, id, row_hash FROM residents WHERE id_hash IN (SELECT value FROM json_each(?))"
# PostgreSQL: the batch's hashes as one array parameter (= ANY), not 10,000 placeholders to build and parse
_LOOKUP_ARRAY = select(_T.c.id_hash, _T.c.id, _T.c.row_hash).where(
    _T.c.id_hash == any_(bindparam("hashes", type_=ARRAY(String))))
_RAW_INSERT = (f"INSERT INTO residents (id_hash, {', '.join(_WRITTEN)}) "
               f"VALUES ({', '.join('?' * (len(_WRITTEN) + 1))})")
_RAW_UPDATE = f"UPDATE residents SET {', '.join(c + ' = ?' for c in _UPDATED)} WHERE id = ?"
_UPDATE = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"))
    .values({name: bindparam("b_" + name) for name in _UPDATED})
)


@functools.cache
def _copy_types() -> tuple[str, ...]:
    return binary_copy_types(_T, _COPIED)


@dataclass
class WriteCounts:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # valid rows not applied on purpose, with a warning (BENEFIT_EXISTS, ACCOUNT_CHANGED_BY_CITIZEN)

    def add(self, other: WriteCounts) -> None:
        self.imported += other.imported
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.skipped += other.skipped


def chunks(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def write_in_batches(records: Iterable, size: int, write: Callable[[list], WriteCounts],
                     progress: Callable[[int], None] | None = None) -> WriteCounts:
    """`write` the records `size` at a time, reporting the number done after each batch; the summed counts."""
    writes, done = WriteCounts(), 0
    for batch in chunks(records, size):
        writes.add(write(batch))
        done += len(batch)
        if progress:
            progress(done)
    return writes


def _raw_rows(conn, sql: str, params: tuple) -> list[tuple]:
    """A read on the transaction's own driver connection, rows as plain tuples (a batch of 10,000 through the
    result wrapper cost more than the lookup itself)."""
    cursor = conn.connection.driver_connection.cursor()
    try:
        return cursor.execute(sql, params).fetchall()
    finally:
        cursor.close()


def _row_text(r: dict) -> str:
    """The registry fields a row's change hash covers, as `str` writes each (a date in ISO form, True, None),
    joined by U+001F: name, sex, birth_date, household_id, relation_to_head, district_code, street_code,
    community_code, hukou_local, phone, death_date. One f-string, not a join over `map(str, …)` (a third less
    of an import's time on it); the text, and so every stored row hash, is the same."""
    return (f"{r['name']}\x1f{r['sex']}\x1f{r['birth_date']}\x1f{r['household_id']}\x1f{r['relation_to_head']}"
            f"\x1f{r['district_code']}\x1f{r['street_code']}\x1f{r['community_code']}\x1f{r['hukou_local']}"
            f"\x1f{r['phone']}\x1f{r['death_date']}")


def resident_row_hash(cipher: FieldCipher, record: dict) -> str:
    """The keyed change-detection hash of a resident's registry fields (also recomputed by a key rotation)."""
    return cipher.lookup_hash(_row_text(record), "row")


def _row_hashes(cipher: FieldCipher, record: dict) -> list[str]:
    """`resident_row_hash` under every key of the ring, current first."""
    return cipher.lookup_hashes(_row_text(record), "row")


class ResidentWriter:
    """Turns validated records into rows (hash, ciphertext, mask) and upserts them a batch at a time.

    On SQLite the rows go straight to the driver's executemany (SQLAlchemy's per-row bind processing costs
    more than the insert itself); on PostgreSQL new rows go in by `COPY … FROM STDIN` on the transaction's own
    connection (psycopg's `Cursor.copy`), changed rows through Core's executemany UPDATE.
    """

    def __init__(self, engine: Engine, cipher: FieldCipher, source_date: date, all_new: bool = False):
        self.engine, self.cipher, self.source_date = engine, cipher, source_date
        self.raw = engine.dialect.name == "sqlite"
        self.all_new = all_new

    def row_hash(self, record: dict) -> str:
        return resident_row_hash(self.cipher, record)

    def _values(self, record: dict, row_hash: str, stamps: tuple) -> tuple:
        """The _WRITTEN columns, in order; on the raw SQLite path dates and booleans as SQLAlchemy stores them."""
        number, phone, cipher = record["id_number"], record["phone"], self.cipher
        born, died, hukou = record["birth_date"], record["death_date"], record["hukou_local"]
        if self.raw:
            born, died, hukou = born.isoformat(), died.isoformat() if died else None, int(hukou)
        return (
            cipher.encrypt(number), idnumbers.mask(number), record["name"], record["sex"], born,
            record["household_id"], record["relation_to_head"], record["district_code"], record["street_code"],
            record["community_code"], hukou,
            cipher.lookup_hash(phone, "phone") if phone else None, cipher.encrypt(phone) if phone else None,
            died, row_hash, SOURCE, *stamps,
        )

    def _stamps(self) -> tuple:
        """(source_date, updated_at) for this batch."""
        now = utcnow()
        if self.raw:
            return self.source_date.isoformat(), now.strftime("%Y-%m-%d %H:%M:%S.%f")
        return self.source_date, now

    def write(self, records: list[dict]) -> WriteCounts:
        """Upsert one batch (ID numbers unique within it) in one transaction."""
        lookup = self.cipher.lookup_hash
        keyed = [(lookup(r["id_number"], "id"), self.row_hash(r), r) for r in records]
        if self.all_new:
            try:
                return self._write(keyed, look_up=False)
            except Exception as exc:
                if not is_unique_violation(exc, "residents", "id_hash"):
                    raise
                self.all_new = False  # a resident inserted by someone else since the load began
        return self._write(keyed, look_up=True)

    def _write(self, keyed: list[tuple[str, str, dict]], look_up: bool) -> WriteCounts:
        counts, stamps = WriteCounts(), self._stamps()
        with self.engine.begin() as conn:
            if self.raw:
                conn.exec_driver_sql(SQLITE_CACHE)
            existing = self._existing(conn, keyed) if look_up else {}
            inserts, updates = [], []
            for id_hash, row_hash, record in keyed:
                found = existing.get(id_hash)
                if found is None:
                    inserts.append((id_hash, *self._values(record, row_hash, stamps)))
                elif found[1] == row_hash or (found[2] and found[1] in _row_hashes(self.cipher, record)):
                    counts.unchanged += 1  # a row still under an earlier key of the ring is left to the rotation
                else:
                    updates.append((id_hash, *self._values(record, row_hash, stamps), found[0]))
            self._execute(conn, inserts, updates)
        counts.imported, counts.updated = len(inserts), len(updates)
        return counts

    def _existing(self, conn, keyed: list[tuple[str, str, dict]]) -> dict[str, tuple[int, str, bool]]:
        """The current key's id_hash → (id, row_hash, keyed by an earlier key) of the batch's residents already in
        the table. While the ring holds several keys (a data-key rotation), a row is found under any of them."""
        if len(self.cipher.kids) > 1:
            index = self.cipher.hash_index((record["id_number"] for _, _, record in keyed), "id")
        else:
            index = {h: h for h, _, _ in keyed}
        hashes = list(index)
        found_rows = (_raw_rows(conn, _RAW_LOOKUP, (json.dumps(hashes),)) if self.raw
                      else conn.execute(_LOOKUP_ARRAY, {"hashes": hashes}))
        return {index[h]: (i, rh, index[h] != h) for h, i, rh in found_rows}

    def _execute(self, conn, inserts: list[tuple], updates: list[tuple]) -> None:
        if self.raw:
            if inserts:
                conn.exec_driver_sql(_RAW_INSERT, inserts)
            if updates:
                conn.exec_driver_sql(_RAW_UPDATE, updates)
            return
        if inserts:
            copy_rows(conn, "residents", _COPIED, inserts, _copy_types())
        if updates:
            conn.execute(_UPDATE, [{"b_id": row[-1], **{"b_" + k: v for k, v in zip(_UPDATED, row, strict=False)}}
                                   for row in updates])
