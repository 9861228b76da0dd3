"""Scan-run records: one per (program, as-of date); a finished run is never repeated."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import session_factory, utcnow
from app.models import ScanRun


@dataclass
class ScanResult:
    program: str
    as_of: date
    mode: str
    proposed: int = 0
    candidates_batches: int = 0
    seconds: float = 0.0
    skipped: bool = False
    counts: dict = field(default_factory=dict)


def open_run(cfg, program: str, as_of: date) -> tuple[ScanRun, bool]:
    """Return (run, fresh). A run that is already `done` comes back with fresh=False and must not be redone."""
    with session_factory(cfg)() as s:
        run = _find(s, program, as_of)
        if run is None:
            try:
                run = ScanRun(program=program, as_of=as_of, state="running", counts={})
                s.add(run)
                s.commit()
            except IntegrityError:
                s.rollback()
                run = _find(s, program, as_of)
        elif run.state != "done":
            run.state, run.started_at, run.error = "running", utcnow(), None
            s.commit()
        return run, run.state != "done"


def _find(s, program: str, as_of: date) -> ScanRun | None:
    return s.execute(select(ScanRun).where(ScanRun.program == program, ScanRun.as_of == as_of)).scalar()


def previous_done(cfg, program: str, before: date) -> ScanRun | None:
    with session_factory(cfg)() as s:
        return s.execute(
            select(ScanRun)
            .where(ScanRun.program == program, ScanRun.as_of < before, ScanRun.state == "done")
            .order_by(ScanRun.as_of.desc())
            .limit(1)
        ).scalar()


def finish(cfg, run_id: str, counts: dict, mode: str, started_at) -> None:
    with session_factory(cfg)() as s:
        run = s.get(ScanRun, run_id)
        run.counts = dict(counts)
        run.state, run.mode, run.finished_at = "done", mode, utcnow()
        run.duration_ms = int((utcnow() - started_at).total_seconds() * 1000)
        s.commit()


def fail(cfg, run_id: str, error: str) -> None:
    with session_factory(cfg)() as s:
        run = s.get(ScanRun, run_id)
        run.state, run.error = "failed", error[:2000]
        s.commit()
