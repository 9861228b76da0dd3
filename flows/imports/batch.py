"""ImportBatch bookkeeping and the import date (Asia/Shanghai)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine

from app.db import utcnow
from app.models.ids import new_id
from app.models.resident import ImportBatch

_T = ImportBatch.__table__


def local_today(cfg) -> date:
    return datetime.now(ZoneInfo(cfg.timezone)).date()


def start_batch(engine: Engine, kind: str, file_name: str, sha256: str) -> str:
    """Record the start of a run (committed at once, so that a crash leaves a trace)."""
    batch_id = new_id()
    with engine.begin() as conn:
        conn.execute(insert(_T).values(id=batch_id, kind=kind, file_name=file_name[:255], file_sha256=sha256,
                                       started_at=utcnow(), counts={}))
    return batch_id


def finish_batch(engine: Engine, batch_id: str, counts: dict, report_path: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(update(_T).where(_T.c.id == batch_id)
                     .values(finished_at=utcnow(), counts=counts, report_path=report_path))
