"""ImportBatch bookkeeping and the import date (Asia/Shanghai)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from app.crypto import cipher_for
from app.db import make_engine, utcnow
from app.models.ids import new_id
from app.models.keys import KeyRotation
from app.models.resident import ImportBatch
from flows.dates import fake_today
from flows.imports.csvfile import BadInput, Survey, survey

_T = ImportBatch.__table__


def local_today(cfg) -> date:
    """Today in the city's time zone, or the test clock (ZEROTRIP_FAKE_TODAY, refused in production)."""
    return fake_today() or datetime.now(ZoneInfo(cfg.timezone)).date()


def refuse_during_rotation(conn) -> None:
    """BadInput while a data-key rotation runs (or was interrupted and not yet resumed): a bulk write waits for it."""
    if conn.execute(select(KeyRotation.id).where(KeyRotation.state == "running")).first():
        raise BadInput("a data-key rotation is running (zerotrip keys rotate-data): imports wait until it "
                       "finishes (an interrupted one: run it again to resume)")


def refuse_unreadable_ring(engine: Engine, cipher) -> None:
    """BadInput when the data-key ring cannot read the stored data (ZEROTRIP_DATA_KEYS without the data's key):
    rows would be keyed under a key the stored ones are not, so every resident of the file was inserted a second
    time beside herself, and the rotation that followed failed on the duplicates."""
    from flows.data_keys.rotate import unreadable_kids

    missing = unreadable_kids(engine, cipher)
    if missing:
        raise BadInput(f"the stored data is under data key {', '.join(sorted(missing))}, which is not in the key "
                       f"ring ({', '.join(cipher.kids)}): set ZEROTRIP_DATA_KEY(S) to include it; nothing was written")


def start_batch(engine: Engine, kind: str, file_name: str, sha256: str, cipher=None) -> str:
    """Record the start of a run (committed at once, so that a crash leaves a trace); refused while a rotation
    runs, and (with the run's `cipher`) when the key ring cannot read the stored data."""
    if cipher is not None:
        refuse_unreadable_ring(engine, cipher)
    batch_id = new_id()
    with engine.begin() as conn:
        refuse_during_rotation(conn)
        conn.execute(insert(_T).values(id=batch_id, kind=kind, file_name=file_name[:255], file_sha256=sha256,
                                       started_at=utcnow(), counts={}))
    return batch_id


def open_batch(cfg, kind: str, path: Path, columns: tuple[str, ...], key: Callable[[dict], object],
               on_total: Callable[[int], None] | None, engine: Engine | None = None,
               surveyor: Callable[..., Survey] = survey,
               optional: tuple[str, ...] = ()) -> tuple[Survey, Engine, str]:
    """Survey the whole file (csvfile.BadInput before anything is written; `surveyor`: `csvfile.survey` or
    what gives its result; `optional`: columns a file may have besides `columns`), report its row count,
    record the batch's start: (survey, engine, batch id)."""
    checked = surveyor(path, columns, key, optional=optional)
    if on_total:
        on_total(checked.rows)
    engine = engine or make_engine(cfg.database_url)
    return checked, engine, start_batch(engine, kind, path.name, checked.sha256, cipher_for(cfg))


def finish_batch(engine: Engine, batch_id: str, counts: dict, report_path: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(update(_T).where(_T.c.id == batch_id)
                     .values(finished_at=utcnow(), counts=counts, report_path=report_path))


def finish_import(engine: Engine, batch_id: str, writes, report) -> dict:
    """Record the run's counts (from its WriteCounts and its closed reject report) and return its summary."""
    counts = {"imported": writes.imported, "updated": writes.updated, "unchanged": writes.unchanged,
              "rejected": report.rejected, "warnings": report.warned}
    if writes.skipped:  # said only when there are any (the summary's keys stay those of the contract otherwise)
        counts["skipped"] = writes.skipped
    finish_batch(engine, batch_id, counts, str(report.path))
    return {**counts, "report": str(report.path), "batch": batch_id}
