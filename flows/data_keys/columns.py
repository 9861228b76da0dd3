"""Every column that depends on the data key, and how a rotation re-keys it, one step per table.

A step reads a batch of rows, computes their values under the current key and writes each changed row with a
guarded UPDATE (`WHERE pk = … AND every rewritten column still holds what was read`), so a row the API changed
meanwhile is read again instead of overwritten. Dependent tables come first, while residents still carry the
hashes those tables copied: a copied ID hash is resolved through the resident (or staff member) holding it.
A copied hash that resolves to nobody (an attempt on a number that matches no one) is left as it is: it links
to nothing, and once the old key is destroyed it cannot be recomputed by anyone.

`tests/unit/test_data_key_columns.py` fails when a column ending in `_hash`/`_enc` is neither here nor in
NOT_DATA_KEYED, or when code computes a keyed hash of a kind no step re-keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.engine import Connection

from app.crypto import FieldCipher
from app.models import (
    BindAttempt,
    DisabilityCertificate,
    EconomicRecord,
    ExchangeClient,
    ExchangeSubscriptionPerson,
    PayoutAccount,
    ProxyRequest,
    RateHit,
    Resident,
    StaffMember,
)
from flows.imports.writer import resident_row_hash

# Columns whose names look keyed but do not use the data key, and why.
NOT_DATA_KEYED = {
    "refresh_tokens.token_hash": "SHA-256 of a random token (no key: the token itself is the secret)",
    "proxy_invitations.token_hash": "SHA-256 of a random single-use token",
    "staff_members.password_hash": "scrypt of the password (its own salt; not the data key)",
    "audit_events.prev_hash": "the audit chain (SHA-256, signed anchors); audit rows are never rewritten",
    "audit_head.prev_hash": "the audit chain's head: the last event's previous hash (SHA-256, no key)",
    "archived_partitions.last_hash": "the audit chain's hash at an archived boundary (SHA-256, also anchored)",
}

# The kinds of keyed hash (`lookup_hash(value, kind)`) and the steps that re-key them.
HASH_KINDS = {"id": ("residents", "staff_members", "bind_attempts", "proxy_requests", "rate_hits",
                     "exchange_subscription_people"),
              "phone": ("residents",), "row": ("residents", "disability_certificates"),
              "cert": ("disability_certificates",), "ref": ("economic_records",), "account": ("payout_accounts",)}

BIND_BUCKET = "bind:id:"
MERGE = "merge"  # (MERGE, into): a rekey's answer for a counter whose re-keyed twin exists already


@dataclass
class Step:
    """Re-keys `columns` of `table`, `batch` rows at a time in primary-key order."""

    name: str
    table: Table
    pk: str
    columns: tuple[str, ...]
    rekey: Callable  # (cipher, row, context) -> dict of new values, or None when nothing changes
    prepare: Callable | None = None  # (conn, cipher, rows) -> context for the batch
    where: Callable | None = None  # () -> extra WHERE clause
    read: tuple[str, ...] = field(default=())  # more columns the rekey needs

    @property
    def pk_is_int(self) -> bool:
        return self.table.c[self.pk].type.python_type is int

    def select_batch(self, after, limit: int):
        cols = [self.table.c[self.pk], *(self.table.c[c] for c in dict.fromkeys(self.columns + self.read) if c != self.pk)]
        query = select(*cols).order_by(self.table.c[self.pk]).limit(limit)
        if after is not None:
            query = query.where(self.table.c[self.pk] > after)
        if self.where is not None:
            query = query.where(self.where())
        return query

    def select_one(self, pk_value):
        cols = [self.table.c[self.pk], *(self.table.c[c] for c in dict.fromkeys(self.columns + self.read) if c != self.pk)]
        return select(*cols).where(self.table.c[self.pk] == pk_value)

    def guarded_update(self, new: dict):
        """UPDATE … WHERE pk = :pk AND each rewritten column is still what was read."""
        t = self.table
        guard = [t.c[self.pk] == bindparam("w_pk")]
        guard += [t.c[c].is_not_distinct_from(bindparam(f"w_{c}", type_=t.c[c].type)) for c in new]
        return update(t).where(*guard).values({c: bindparam(f"v_{c}", type_=t.c[c].type) for c in new})

    def merge_counter(self, conn: Connection, old: str, into: str) -> None:
        """rate_hits: fold counter `old` into `into` (the larger count, the later window) and drop it."""
        t = self.table
        a = conn.execute(select(t.c.window_start, t.c.hits).where(t.c.bucket == old)).first()
        b = conn.execute(select(t.c.window_start, t.c.hits).where(t.c.bucket == into)).first()
        if a is not None and b is not None:
            conn.execute(update(t).where(t.c.bucket == into)
                         .values(hits=max(a.hits, b.hits), window_start=max(a.window_start, b.window_start)))
        conn.execute(delete(t).where(t.c.bucket == old))


def resolve_id_hashes(conn: Connection, cipher: FieldCipher, hashes) -> dict[str, str]:
    """{stored ID hash: the hash under the current key} for hashes a resident or staff member holds."""
    hashes = [h for h in set(hashes) if h]
    found: dict[str, str] = {}
    if not hashes:
        return found
    for table in (Resident.__table__, StaffMember.__table__):
        rows = conn.execute(select(table.c.id_hash, table.c.id_enc).where(table.c.id_hash.in_(hashes),
                                                                          table.c.id_enc.is_not(None)))
        for id_hash, id_enc in rows:
            found[id_hash] = cipher.lookup_hash(cipher.decrypt(id_enc), "id")
    return found


def _ids_of(attr: str) -> Callable:
    def prepare(conn, cipher, rows):
        return resolve_id_hashes(conn, cipher, (getattr(r, attr) for r in rows))
    return prepare


def _bind_attempt(cipher, row, found):
    new = found.get(row.id_hash)
    return {"id_hash": new} if new and new != row.id_hash else None


def _proxy_request_hashes(conn, cipher, rows):
    return resolve_id_hashes(conn, cipher, [r.target_id_hash for r in rows]
                             + [r.open_key.partition(":")[2] for r in rows if r.open_key])


def _proxy_request(cipher, row, found):
    new = {}
    target = found.get(row.target_id_hash)
    if target and target != row.target_id_hash:
        new["target_id_hash"] = target
    if row.open_key:
        requester, _, old = row.open_key.partition(":")
        if found.get(old) and found[old] != old:
            new["open_key"] = f"{requester}:{found[old]}"
    return new or None


def _rate_hit_hashes(conn, cipher, rows):
    found = resolve_id_hashes(conn, cipher, [r.bucket[len(BIND_BUCKET):] for r in rows])
    t = RateHit.__table__
    wanted = [BIND_BUCKET + h for h in found.values()]
    taken = set(conn.execute(select(t.c.bucket).where(t.c.bucket.in_(wanted))).scalars()) if wanted else set()
    return found, taken


def _rate_hit(cipher, row, context):
    """Rename the counter to the new hash; when the API already counts under the new hash (it spends a hit of
    every key's counter while the ring has two keys), the two merge: the larger count in the newer window."""
    found, taken = context
    old = row.bucket[len(BIND_BUCKET):]
    new = found.get(old)
    if not new or new == old:
        return None
    return (MERGE, BIND_BUCKET + new) if BIND_BUCKET + new in taken else {"bucket": BIND_BUCKET + new}


def _certificate_people(conn, cipher, rows):
    ids = list({r.resident_id for r in rows})
    r = Resident.__table__
    return {i: cipher.decrypt(enc) for i, enc in conn.execute(select(r.c.id, r.c.id_enc).where(r.c.id.in_(ids)))}


def _certificate(cipher, row, numbers):
    number = numbers.get(row.resident_id)
    new = {"row_hash": cipher.lookup_hash(f"{row.category}|{row.grade}|{row.issue_date}|{row.expiry_date}|"
                                          f"{row.resident_id}", "row")}
    if number is not None:  # the certificate number is the ID number + category + grade (第二代残疾人证)
        new["cert_hash"] = cipher.lookup_hash(f"{number}{row.category}{row.grade}", "cert")
    return _changed(row, new)


def _economic(cipher, row, _ctx):
    if row.ref_enc is None:  # no ref, or stored before refs were kept encrypted: nothing to recompute from
        return None
    ref = cipher.decrypt(row.ref_enc)
    return _changed(row, {"ref_hash": cipher.lookup_hash(ref, "ref"), "ref_enc": _reencrypt(cipher, row.ref_enc, ref)})


def _payout(cipher, row, _ctx):
    number = cipher.decrypt(row.number_enc)
    return _changed(row, {"number_hash": cipher.lookup_hash(number, "account"),
                          "number_enc": _reencrypt(cipher, row.number_enc, number)})


def _staff(cipher, row, _ctx):
    if row.id_enc is None:
        return None
    number = cipher.decrypt(row.id_enc)
    return _changed(row, {"id_hash": cipher.lookup_hash(number, "id"), "id_enc": _reencrypt(cipher, row.id_enc, number)})


_RESIDENT_FIELDS = ("name", "sex", "birth_date", "household_id", "relation_to_head", "district_code", "street_code",
                    "community_code", "hukou_local", "death_date")


def _resident(cipher, row, _ctx):
    number = cipher.decrypt(row.id_enc)
    phone = cipher.decrypt(row.phone_enc) if row.phone_enc is not None else None
    record = {k: getattr(row, k) for k in _RESIDENT_FIELDS}
    record["phone"] = phone
    new = {"id_hash": cipher.lookup_hash(number, "id"), "id_enc": _reencrypt(cipher, row.id_enc, number),
           "row_hash": resident_row_hash(cipher, record)}
    if phone is not None:
        new |= {"phone_hash": cipher.lookup_hash(phone, "phone"), "phone_enc": _reencrypt(cipher, row.phone_enc, phone)}
    return _changed(row, new)


def _reencrypt(cipher: FieldCipher, blob: bytes, plaintext: str) -> bytes:
    return bytes(blob) if cipher.is_current(blob) else cipher.encrypt(plaintext)


def _changed(row, new: dict) -> dict | None:
    new = {k: v for k, v in new.items() if v != (bytes(getattr(row, k)) if isinstance(getattr(row, k), memoryview)
                                                 else getattr(row, k))}
    return new or None


def _webhook_secret(cipher, row, _ctx):
    """A publisher's webhook secret (exchange), encrypted with its own context."""
    if row.webhook_secret_enc is None or cipher.is_current(row.webhook_secret_enc):
        return None
    secret = cipher.decrypt(row.webhook_secret_enc, b"exchange-webhook")
    return {"webhook_secret_enc": cipher.encrypt(secret, b"exchange-webhook")}


STEPS: tuple[Step, ...] = (
    Step("bind_attempts", BindAttempt.__table__, "id", ("id_hash",), _bind_attempt, _ids_of("id_hash"),
         where=lambda: BindAttempt.__table__.c.id_hash.is_not(None)),
    # a department's people-subscription keeps the keyed hash of each ID number (flows.exchange.subscriptions)
    Step("exchange_subscription_people", ExchangeSubscriptionPerson.__table__, "id", ("id_hash",), _bind_attempt,
         _ids_of("id_hash")),
    Step("proxy_requests", ProxyRequest.__table__, "id", ("target_id_hash", "open_key"), _proxy_request,
         _proxy_request_hashes),
    Step("rate_hits", RateHit.__table__, "bucket", ("bucket",), _rate_hit, _rate_hit_hashes,
         where=lambda: RateHit.__table__.c.bucket.like(BIND_BUCKET + "%")),
    Step("disability_certificates", DisabilityCertificate.__table__, "id", ("cert_hash", "row_hash"), _certificate,
         _certificate_people, read=("resident_id", "category", "grade", "issue_date", "expiry_date")),
    Step("economic_records", EconomicRecord.__table__, "id", ("ref_hash", "ref_enc"), _economic),
    Step("payout_accounts", PayoutAccount.__table__, "resident_id", ("number_hash", "number_enc"), _payout),
    Step("staff_members", StaffMember.__table__, "id", ("id_hash", "id_enc"), _staff),
    Step("residents", Resident.__table__, "id", ("id_hash", "id_enc", "phone_hash", "phone_enc", "row_hash"),
         _resident, read=_RESIDENT_FIELDS),
    Step("exchange_clients", ExchangeClient.__table__, "id", ("webhook_secret_enc",), _webhook_secret),
)


def rotated_columns() -> set[str]:
    """`table.column` for every column some step re-keys."""
    return {f"{step.table.name}.{c}" for step in STEPS for c in step.columns}
