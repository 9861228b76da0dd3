"""The resumable re-keying job. Each batch and its resume point (`key_rotations.step/last_key`) commit in one
transaction, so a run killed at any moment resumes exactly after its last committed batch; re-doing a batch
is harmless (a row already under the current key computes to what it holds and is not written).

Procedure (docs/keys.md): put the new key first in ZEROTRIP_DATA_KEYS and the old one second on every process
(look-ups then match either hash, new rows use the new key), run `zerotrip keys rotate-data`, then drop the
old key from the ring and keep it offline as long as backups made with it are kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from app.crypto import cipher_for
from app.db import make_engine, utcnow
from app.models import KeyRotation
from app.models.ids import new_id
from flows.data_keys import lease
from flows.data_keys.columns import MERGE, STEPS, Step

_K = KeyRotation.__table__
STEP_NAMES = [s.name for s in STEPS]


class RotationRefused(RuntimeError):
    """The rotation cannot run as configured (e.g. an unfinished rotation to another key)."""


def _open_rotation(engine: Engine, to_kid: str) -> dict:
    with engine.begin() as conn:
        running = conn.execute(select(_K).where(_K.c.state == "running")).mappings().first()
        if running is not None:
            if running["to_kid"] != to_kid:
                raise RotationRefused(f"an unfinished rotation to key {running['to_kid']!r} exists; make that key "
                                      "current again and resume it before rotating to another")
            return dict(running)
        row = {"id": new_id(), "to_kid": to_kid, "state": "running", "step": STEP_NAMES[0], "last_key": None,
               "counts": {}, "started_at": utcnow(), "updated_at": utcnow()}
        conn.execute(_K.insert().values(**row))
        return row


def _key_value(step: Step, text: str | None):
    if text is None:
        return None
    return int(text) if step.pk_is_int else text


def _apply(conn, step: Step, cipher, row, context) -> str:
    """Write one row's new values, re-reading it while the API changes it under us. Returns what happened."""
    for _ in range(20):
        new = step.rekey(cipher, row, context)
        if new is None:
            return "unchanged"
        params = {"w_pk": getattr(row, step.pk)}
        if isinstance(new, tuple) and new[0] == MERGE:
            step.merge_counter(conn, getattr(row, step.pk), new[1])
            return "merged"
        params |= {f"w_{c}": getattr(row, c) for c in new} | {f"v_{c}": v for c, v in new.items()}
        if conn.execute(step.guarded_update(new), params).rowcount == 1:
            return "rekeyed"
        row = conn.execute(step.select_one(getattr(row, step.pk))).first()
        if row is None:
            return "gone"
        if step.prepare is not None:
            context = step.prepare(conn, cipher, [row])
    raise RuntimeError(f"{step.name} row {getattr(row, step.pk)!r} kept changing; run the rotation again")


def _apply_batch(conn, step: Step, cipher, rows, context) -> list[str]:
    """Guarded UPDATEs sent together per set of changed columns; when any did not land (the API changed that
    row meanwhile) the group is redone row by row (a row that did land now computes to itself)."""
    outcomes, groups, single = [], {}, []
    for row in rows:
        new = step.rekey(cipher, row, context)
        if new is None:
            outcomes.append("unchanged")
        elif isinstance(new, dict):
            groups.setdefault(tuple(sorted(new)), []).append((row, new))
        else:
            single.append(row)
    for columns, items in groups.items():
        params = [{"w_pk": getattr(row, step.pk), **{f"w_{c}": getattr(row, c) for c in columns},
                   **{f"v_{c}": new[c] for c in columns}} for row, new in items]
        if conn.execute(step.guarded_update(dict.fromkeys(columns)), params).rowcount == len(items):
            outcomes += ["rekeyed"] * len(items)
        else:
            outcomes += [_apply(conn, step, cipher, row, context) for row, _ in items]
    outcomes += [_apply(conn, step, cipher, row, context) for row in single]
    return outcomes


def _batch(engine: Engine, step: Step, cipher, rotation: dict, batch_size: int) -> int:
    """Re-key one batch and move the resume point, in one transaction. Returns the rows read (0: step done)."""
    with engine.begin() as conn:
        rows = conn.execute(step.select_batch(_key_value(step, rotation["last_key"]), batch_size)).all()
        if not rows:
            return 0
        context = step.prepare(conn, cipher, rows) if step.prepare is not None else None
        counts = dict(rotation["counts"])
        for outcome in _apply_batch(conn, step, cipher, rows, context):
            counts[outcome] = counts.get(outcome, 0) + 1
        counts["read"] = counts.get("read", 0) + len(rows)
        last = str(getattr(rows[-1], step.pk))
        conn.execute(update(_K).where(_K.c.id == rotation["id"])
                     .values(step=step.name, last_key=last, counts=counts, updated_at=utcnow()))
        lease.renew(conn)
    rotation.update(last_key=last, counts=counts)
    return len(rows)


def rotate(cfg, batch_size: int = 500, progress: Callable[[str, int], None] | None = None,
           engine: Engine | None = None, pause: float = 0.0) -> dict:
    """Re-key every data-key column to the current key of the ring; resumes an unfinished run. `pause` seconds
    after each full batch (a table still being worked through) spare a busy database."""
    engine = engine or make_engine(cfg.database_url)
    cipher = cipher_for(cfg)
    holder = lease.take(cfg, engine)
    if holder is not None:
        raise RotationRefused(f"another rotate-data ({holder}) holds the rotation lease; if it was stopped on "
                              f"another host, run again once its lease lapses ({lease.LEASE_SECONDS} s)")
    try:
        return _rotate(cfg, engine, cipher, batch_size, progress, pause)
    except ValueError as exc:
        if "not in the ring" not in str(exc) and "decrypts" not in str(exc):
            raise
        raise RotationRefused(f"{exc}: the rotation stopped after its last complete batch; put that key back "
                              "in ZEROTRIP_DATA_KEYS (after the new one) and run again to resume") from None
    finally:
        lease.release(cfg)


def unreadable_kids(engine: Engine, cipher) -> set[str]:
    """The data keys (kids) of stored ciphertexts this ring cannot decrypt: the samples a backup checks, one per
    encrypted column, decrypted the way restore decrypts them. Empty: the ring reads the data."""
    from app.crypto import header
    from flows.backup.archive import samples

    missing = set()
    for sample in samples(engine):
        blob = bytes.fromhex(sample["ciphertext"])
        try:
            cipher.decrypt(blob)
        except ValueError:
            missing.add(header(blob)[1] or "(a key without kid)")
    return missing


def _refuse_unreadable(engine: Engine, cipher) -> None:
    """Before a rotation is opened: the ring must read the data. A ring without the data's key (a mistyped kid,
    the old key left out) failed on the first row with a traceback and left a running rotation to the wrong
    key behind, which kept imports and seeding refused until someone deleted it by hand."""
    missing = unreadable_kids(engine, cipher)
    if missing:
        raise RotationRefused(f"the data is (partly) under data key {', '.join(sorted(missing))}, which is not in "
                              f"ZEROTRIP_DATA_KEYS ({', '.join(cipher.kids)}): put the new key first and keep the "
                              "old one after it until the rotation ends; nothing was changed")


def _rotate(cfg, engine: Engine, cipher, batch_size: int, progress, pause: float) -> dict:
    _refuse_unreadable(engine, cipher)
    rotation = _open_rotation(engine, cipher.current_kid)
    for step in STEPS[STEP_NAMES.index(rotation["step"]):]:
        if rotation["step"] != step.name:
            rotation.update(step=step.name, last_key=None)
        collisions = 0
        while True:
            try:
                read = _batch(engine, step, cipher, rotation, batch_size)
            except IntegrityError:  # the API wrote a colliding row meanwhile (e.g. a counter): read it again
                collisions += 1
                if collisions > 5:
                    raise
                continue
            collisions = 0
            if not read:
                break
            if progress:
                progress(step.name, rotation["counts"].get("read", 0))
            if pause and read == batch_size:  # a full batch: more of this table may follow
                time.sleep(pause)
    with engine.begin() as conn:
        conn.execute(update(_K).where(_K.c.id == rotation["id"])
                     .values(state="finished", step="", last_key=None, finished_at=utcnow(), updated_at=utcnow()))
    return {"rotation": rotation["id"], "kid": cipher.current_kid, **rotation["counts"]}


def status(cfg, engine: Engine | None = None) -> dict | None:
    """The latest rotation (running or finished), or None."""
    engine = engine or make_engine(cfg.database_url)
    with engine.connect() as conn:
        row = conn.execute(select(_K).order_by(_K.c.started_at.desc()).limit(1)).mappings().first()
    return dict(row) if row else None
