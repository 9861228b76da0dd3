"""Bulk upsert of validated residents (SQLAlchemy Core executemany, one transaction per batch).

Existing rows are found in bulk by keyed ID hash; a row whose business fields hash (`row_hash`) is the same is
not written at all, so `updated_at` only moves when something changed (the scans rely on it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Engine

from app import idnumbers
from app.crypto import FieldCipher
from app.db import utcnow
from app.models.resident import Resident

SOURCE = "population_registry"
BATCH_ROWS = 10_000
_T = Resident.__table__
_HASHED = ("name", "sex", "birth_date", "household_id", "relation_to_head", "district_code", "street_code",
           "community_code", "hukou_local", "phone", "death_date")
_WRITTEN = ("id_enc", "id_mask", "name", "sex", "birth_date", "household_id", "relation_to_head",
            "district_code", "street_code", "community_code", "hukou_local", "phone_hash", "phone_enc",
            "death_date", "row_hash", "source", "source_date", "updated_at")
_LOOKUP = select(_T.c.id_hash, _T.c.id, _T.c.row_hash).where(_T.c.id_hash.in_(bindparam("hashes", expanding=True)))
_UPDATE = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"))
    .values({name: bindparam("b_" + name) for name in _WRITTEN})
)


@dataclass
class WriteCounts:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: WriteCounts) -> None:
        self.imported += other.imported
        self.updated += other.updated
        self.unchanged += other.unchanged


def chunks(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


class ResidentWriter:
    """Turns validated records into rows (hash, ciphertext, mask) and upserts them a batch at a time."""

    def __init__(self, engine: Engine, cipher: FieldCipher, source_date: date):
        self.engine, self.cipher, self.source_date = engine, cipher, source_date

    def row_hash(self, record: dict) -> str:
        return self.cipher.lookup_hash("\x1f".join(str(record[k]) for k in _HASHED), "row")

    def _full_row(self, record: dict, id_hash: str, row_hash: str, now) -> dict:
        number, phone, cipher = record["id_number"], record["phone"], self.cipher
        row = {k: record[k] for k in _HASHED if k != "phone"}
        row.update(id_hash=id_hash, id_enc=cipher.encrypt(number), id_mask=idnumbers.mask(number),
                   phone_hash=cipher.lookup_hash(phone, "phone") if phone else None,
                   phone_enc=cipher.encrypt(phone) if phone else None,
                   row_hash=row_hash, source=SOURCE, source_date=self.source_date, updated_at=now)
        return row

    def write(self, records: list[dict]) -> WriteCounts:
        """Upsert one batch (ID numbers unique within it) in one transaction."""
        lookup = self.cipher.lookup_hash
        keyed = [(lookup(r["id_number"], "id"), self.row_hash(r), r) for r in records]
        counts, now = WriteCounts(), utcnow()
        with self.engine.begin() as conn:
            existing = {h: (i, rh) for h, i, rh in conn.execute(_LOOKUP, {"hashes": [k[0] for k in keyed]})}
            inserts, updates = [], []
            for id_hash, row_hash, record in keyed:
                found = existing.get(id_hash)
                if found is None:
                    inserts.append(self._full_row(record, id_hash, row_hash, now))
                elif found[1] == row_hash:
                    counts.unchanged += 1
                else:
                    row = self._full_row(record, id_hash, row_hash, now)
                    updates.append({"b_id": found[0], **{"b_" + k: row[k] for k in _WRITTEN}})
            if inserts:
                conn.execute(insert(_T), inserts)
            if updates:
                conn.execute(_UPDATE, updates)
        counts.imported, counts.updated = len(inserts), len(updates)
        return counts
