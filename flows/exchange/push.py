"""Data in by push: a DCI-shaped `notify` message of records, each validated by the CSV import's own code
(`partner.Spec`: columns, validation, reason codes, writer), idempotent per (client, dataset, reference id), with a
per-record result. Accepted records are written in the request's transaction and, when they have an effect
(a death, a move out, a withdrawn death), queued for the exchange worker (`exchange_records.state = pending`).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date

from sqlalchemy import bindparam, delete, insert, select, update

from app.crypto import cipher_for
from app.db import utcnow
from app.models import DeathRecord, ExchangeRecord, Resident
from app.models.ids import new_id
from app.partitions import exchange_record_key, rows_holding
from app.sql import is_postgres
from flows.exchange.datasets import GATES, PUSH
from flows.imports import partner

MAX_RECORDS = 1000
MAX_REFERENCE = 64  # characters of a record's reference_id (a webhook event's id is one)
DEATH_CANCELLED = "DEATH_CANCELLED"
EVENTS = (None, "DEATH_REGISTERED", DEATH_CANCELLED)
REASONS = {
    "REFERENCE_REPEATED": "this reference_id appears more than once in the message; only the first is taken",
    "RECORD_INVALID": "the item needs reference_id (1–64 characters), dataset and a record object of strings",
    "DATASET_UNKNOWN": "the dataset is not one this exchange takes",
    "DATASET_NOT_ALLOWED": "this client may not push this dataset",
    "FIELD_UNKNOWN": "the record has a field the dataset does not define",
    "NO_AUTHORIZATION": "economic records only for a household with an open 低保 case and a recorded 授权核对, "
                        "or one receiving 低保 (动态管理)",
    "CORROBORATION": "recorded as corroboration; a death takes effect on the authoritative source's report",
    "EVENT_UNKNOWN": "event must be DEATH_REGISTERED or DEATH_CANCELLED (deaths only)",
    "NOT_THE_SOURCE": "only the source that reported a death can withdraw it",
    "STILL_REPORTED": "this report is withdrawn; the death stands on another report that is not",
}
_TEXT_OR_NONE = (str, type(None))  # a tuple built once (`str | None` builds a union per value checked)
_D, _R, _X = DeathRecord.__table__, Resident.__table__, ExchangeRecord.__table__


_EXISTING_COLUMNS = (_X.c.id, _X.c.dataset, _X.c.reference_id, _X.c.body_sha256, _X.c.status, _X.c.reasons)
_EXISTING = select(*_EXISTING_COLUMNS).where(  # SQLite: the unique constraint's index
    _X.c.client_id == bindparam("c"), _X.c.dataset == bindparam("d"),
    _X.c.reference_id.in_(bindparam("refs", expanding=True)))


def authoritative_death_sources() -> tuple[str, ...]:
    """Whose death report takes effect (a documented setting; 卫健 and 殡葬 corroborate by default)."""
    raw = os.environ.get("ZEROTRIP_EXCHANGE_DEATH_AUTHORITY", "public_security")
    return tuple(s.strip() for s in raw.split(",") if s.strip())


class KeyTaken(Exception):
    """A record key this push inserts was stored by a concurrent push that committed first (PostgreSQL: the key
    guard of the monthly partitions skipped the row). The caller rolls the push back and runs it again, which then
    sees that record: a duplicate, or an update of it."""


class Collector:
    """Stands in for the import's reject report: the writer's per-row rejections, by item index."""

    def __init__(self):
        self.rejected: dict[int, list] = {}

    def add_row(self, line, id_number, issues) -> bool:
        self.rejected.setdefault(line, []).extend(issues)
        return True


def allowed_push(client) -> set[str]:
    """The datasets a client may push: the union of its purposes' `push` lists (every dataset when none says)."""
    named = {d for spec in (client.purposes or {}).values() for d in (spec.get("push") or ())}
    return named or set(PUSH)


def _hash(item: dict) -> str:
    return hashlib.sha256(json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                          .encode()).hexdigest()


def _reasons(issues) -> list[dict]:
    return [{"code": code, "detail": detail} for code, detail in issues]


def _shape(item) -> tuple[str | None, str | None, dict | None, str | None]:
    if not isinstance(item, dict):
        return None, None, None, "RECORD_INVALID"
    ref, dataset, record = item.get("reference_id"), item.get("dataset"), item.get("record")
    if not isinstance(ref, str) or not 1 <= len(ref) <= MAX_REFERENCE or not isinstance(record, dict) \
            or not all(isinstance(v, _TEXT_OR_NONE) for v in record.values()) or not isinstance(dataset, str):
        return (ref if isinstance(ref, str) else None), None, None, "RECORD_INVALID"
    if dataset not in PUSH:
        return ref, dataset, None, "DATASET_UNKNOWN"
    if item.get("event") not in EVENTS or (item.get("event") and dataset not in ("deaths", "cremations")):
        return ref, dataset, None, "EVENT_UNKNOWN"
    return ref, dataset, record, None


def push(session, cfg, client, items: list, today: date) -> list[dict]:
    """Process one message's records in the caller's transaction; one result per item, in order."""
    conn, cipher = session.connection(), cipher_for(cfg)
    results: list[dict | None] = [None] * len(items)
    shaped, seen = [], set()
    for i, item in enumerate(items):
        ref, dataset, record, problem = _shape(item)
        if not problem and (dataset, ref) in seen:
            problem = "REFERENCE_REPEATED"
        seen.add((dataset, ref))
        if problem:
            results[i] = {"reference_id": ref, "status": "rejected", "reasons": _reasons([(problem, REASONS[problem])])}
        else:
            shaped.append((i, ref, dataset, record, item.get("event"), _hash(item)))
    allowed = allowed_push(client)
    existing = {(row.dataset, row.reference_id): row for row in _existing(conn, client.id, shaped)}
    by_dataset: dict[str, list] = {}
    for i, ref, dataset, record, event, digest in shaped:
        old = existing.get((dataset, ref))
        if old is not None and old.body_sha256 == digest:  # the same record again: the stored result
            results[i] = {"reference_id": ref, "status": old.status, "reasons": old.reasons, "duplicate": True}
        elif dataset not in allowed:
            results[i] = {"reference_id": ref, "status": "rejected",
                          "reasons": _reasons([("DATASET_NOT_ALLOWED", REASONS["DATASET_NOT_ALLOWED"])])}
        else:
            by_dataset.setdefault(dataset, []).append((i, ref, record, event, digest, old))
    for dataset, group in by_dataset.items():
        _push_dataset(conn, cipher, client, PUSH[dataset], group, results, today)
        _store(session, client, dataset, group, results)
    return results  # type: ignore[return-value]


def _existing(conn, client_id: str, shaped: list) -> list:
    """The stored records with the keys of this message (client, dataset, reference id)."""
    if is_postgres(conn):  # through unique_keys: one probe a key, then the row by id (app.partitions.rows_holding)
        keys = [exchange_record_key(client_id, s[2], s[1]) for s in shaped]
        return list(conn.execute(rows_holding(_X, _EXISTING_COLUMNS), {"scope": "exchange_records", "keys": keys}))
    refs_by_dataset: dict[str, list[str]] = {}
    for s in shaped:
        refs_by_dataset.setdefault(s[2], []).append(s[1])
    return [row for dataset, refs in refs_by_dataset.items() for start in range(0, len(refs), 500)
            for row in conn.execute(_EXISTING, {"c": client_id, "d": dataset, "refs": refs[start:start + 500]})]


def _push_dataset(conn, cipher, client, ds, group, results, today) -> None:
    spec = ds.spec
    refs = {g[0]: g[1] for g in group}
    fixed = dict(ds.fixed)
    if spec.kind == "deaths" and client.death_source:
        fixed["source"] = client.death_source  # a department reports as itself
    valid, keys = [], {}
    for i, ref, record, event, _digest, _old in group:
        extra = set(record) - set(spec.columns)
        if extra:
            results[i] = {"reference_id": ref, "status": "rejected",
                          "reasons": _reasons([("FIELD_UNKNOWN", REASONS["FIELD_UNKNOWN"])])}
            continue
        row = {c: (record.get(c) or "") for c in spec.columns}
        row.update(fixed)
        rec, issues = spec.validate(row, today)
        errors = [x for x in issues if partner.severity(x[0]) == partner.ERROR]
        if rec is None or errors:
            results[i] = {"reference_id": ref, "status": "rejected", "reasons": _reasons(errors or issues)}
            continue
        keys.setdefault(spec.key(row), []).append(i)
        valid.append((i, rec, event))
    dupes = {i for idx in keys.values() if len(idx) > 1 for i in idx}
    items = []
    for i, rec, event in valid:
        ref = refs[i]
        if i in dupes:
            results[i] = {"reference_id": ref, "status": "rejected",
                          "reasons": _reasons([("DUPLICATE_ID", spec.duplicate_detail)])}
        else:
            items.append((i, rec, event))
    if not items:
        return
    found = partner.people(conn, cipher, [(i, rec) for i, rec, _ in items])
    person_of = {i: partner.resident_of(found, cipher, rec) for i, rec, _ in items}  # one keyed hash per row
    if ds.gate:
        admitted = GATES[ds.gate](conn, [p.id for p in found.values()])
        kept = []
        for i, rec, event in items:
            person = person_of[i]
            if person is not None and person.id not in admitted:
                results[i] = {"reference_id": refs[i], "status": "rejected",
                              "reasons": _reasons([("NO_AUTHORIZATION", REASONS["NO_AUTHORIZATION"])])}
            else:
                kept.append((i, rec, event))
        items = kept
    effects: dict[int, str | None] = {}
    to_write = []
    for i, rec, event in items:
        person = person_of[i]
        if spec.kind == "deaths" and person is not None:
            if rec["source"] not in authoritative_death_sources():
                results[i] = {"reference_id": refs[i], "status": "accepted",
                              "reasons": _reasons([("CORROBORATION", REASONS["CORROBORATION"])])}
                effects[i] = None
                continue
            if event == DEATH_CANCELLED:
                effects[i] = _cancel_death(conn, client, person, rec, refs[i], results, i)
                continue
        to_write.append((i, rec))
        effects[i] = ds.effect(rec)
    collector = Collector()
    if to_write:
        spec.write(conn, cipher, to_write, found, collector, today)
    for i, _rec in to_write:
        ref = refs[i]
        if i in collector.rejected:
            results[i] = {"reference_id": ref, "status": "rejected", "reasons": _reasons(collector.rejected[i])}
        else:
            results[i] = {"reference_id": ref, "status": "accepted", "reasons": []}
    for i, _rec, _event in items:
        person = person_of[i]
        if results[i] and results[i]["status"] == "accepted":
            results[i]["_resident"] = person.id if person else None
            results[i]["_effect"] = effects.get(i)


def _cancel_death(conn, client, person, rec, ref, results, i) -> str | None:
    """A withdrawal takes back this client's report under this reference id, and only that: another department of
    the same source, or another reference id, withdrew deaths it never reported. While another report of the
    death still stands, the death stands."""
    current = conn.execute(select(_D.c.source).where(_D.c.resident_id == person.id)).first()
    if current is None:
        results[i] = {"reference_id": ref, "status": "accepted", "reasons": []}
        return None
    reports = conn.execute(select(_X.c.client_id, _X.c.reference_id).where(
        _X.c.resident_id == person.id, _X.c.effect == "death", _X.c.status == "accepted")).all()
    if current.source != rec["source"] or (client.id, ref) not in {(r.client_id, r.reference_id) for r in reports}:
        results[i] = {"reference_id": ref, "status": "rejected",
                      "reasons": _reasons([("NOT_THE_SOURCE", REASONS["NOT_THE_SOURCE"])])}
        return None
    if len(reports) > 1:  # this report is taken back (stored as the withdrawal); the others still say she died
        results[i] = {"reference_id": ref, "status": "accepted",
                      "reasons": _reasons([("STILL_REPORTED", REASONS["STILL_REPORTED"])])}
        return None
    conn.execute(delete(_D).where(_D.c.resident_id == person.id))
    conn.execute(update(_R).where(_R.c.id == bindparam("rid")).values(death_date=None, updated_at=utcnow()),
                 {"rid": person.id})
    results[i] = {"reference_id": ref, "status": "accepted", "reasons": []}
    return "death_cancelled"


def _store(session, client, dataset, group, results) -> None:
    """Insert the new records and update the changed ones (Core executemany: a batch is up to 1,000 rows)."""
    now = utcnow()
    inserts, updates = [], []
    for i, ref, _record, _event, digest, old in group:
        res = results[i]
        resident, effect = res.pop("_resident", None), res.pop("_effect", None)
        values = {"body_sha256": digest, "status": res["status"], "reasons": res["reasons"], "resident_id": resident,
                  "effect": effect, "state": "pending" if effect else "none", "created_at": now, "applied_at": None}
        if old is None:
            inserts.append({"id": new_id(), "client_id": client.id, "dataset": dataset, "reference_id": ref, **values})
        else:
            updates.append({"b_id": old.id, **{f"b_{k}": v for k, v in values.items()}})
    conn = session.connection()
    if inserts and len(conn.execute(insert(_X).returning(_X.c.id), inserts).all()) != len(inserts):
        raise KeyTaken(f"{len(inserts)} records of {dataset}: a key was stored meanwhile by another push")
    if updates:
        conn.execute(update(_X).where(_X.c.id == bindparam("b_id")).values(
            {name[2:]: bindparam(name) for name in updates[0] if name != "b_id"}), updates)
