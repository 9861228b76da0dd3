"""The scheduler process (`zerotrip scheduler`): daily scans, never inside the web app.

Each job takes a database lease first, so a second scheduler started by mistake skips instead of
running the job twice; the scans themselves are idempotent per as-of date as well.
"""

from __future__ import annotations

import logging
import signal

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from app.db import session_scope
from flows import appeals, joblock
from flows.audit_anchor import run_daily_anchor
from flows.dates import SHANGHAI, today_shanghai
from flows.lifecycle.jobs import run_daily as run_lifecycle
from flows.programs import PROGRAMS
from flows.scans import run_scan, scanning_programs
from notifications import reconcile as outbox_reconcile

log = logging.getLogger("zerotrip.scheduler")
LEASE_TTL = 3600


def timed(job: str, fn, lease_ttl: float | None = None):
    """`fn` with its duration, last success and (while running) lease deadline in the metrics."""
    import functools

    from app.observe.metrics import timed_job

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with timed_job(job, lease_ttl):
            return fn(*args, **kwargs)

    return run


def run_daily_scans(cfg, today=None) -> None:
    """The daily scans of every program that has one (Program.scan), in the registry's order, then the daily
    programs' run — for `today` (default: the Shanghai date, or the test clock ZEROTRIP_FAKE_TODAY)."""
    today = today or today_shanghai()
    if not joblock.acquire(cfg, "daily:scans", ttl_seconds=3600):
        log.info("daily scans skipped: lock held by another scheduler")
        return
    try:
        for program in scanning_programs():
            result = run_scan(cfg, program, today)
            log.info("scan %s as_of=%s mode=%s proposed=%s skipped=%s",
                     program.code, result.as_of, result.mode, result.proposed, result.skipped)
    finally:
        joblock.release(cfg, "daily:scans")
    run_daily_programs(cfg, today)


def run_daily_programs(cfg, today=None) -> None:
    """The lifecycle jobs (deaths, moves, expiries, tier raises, reminders), then each program's own sweep of
    its open cases (Program.sweep) and the appeals' sweep."""
    if not joblock.acquire(cfg, "daily:programs", ttl_seconds=3600):
        log.info("daily programs skipped: lock held by another scheduler")
        return
    try:
        today = today or today_shanghai()
        lifecycle = run_lifecycle(cfg, today)
        log.info("lifecycle as_of=%s %s", today, " ".join(f"{k}={v}" for k, v in lifecycle.counts.items()))
        for program in PROGRAMS.values():
            if sweep := program.hook("sweep"):
                with session_scope(cfg) as session:
                    counts = sweep(session, today)
                log.info("sweep %s as_of=%s %s", program.code, today,
                         " ".join(f"{k}={v}" for k, v in counts.items()))
        with session_scope(cfg) as session:
            swept = appeals.sweep(session, today)
        log.info("appeals as_of=%s %s", today, " ".join(f"{k}={v}" for k, v in swept.items()))
    finally:
        joblock.release(cfg, "daily:programs")


def ensure_partitions(cfg, today=None) -> int:
    """PostgreSQL's monthly partitions (app/partitions.py): this month and the next three for each partitioned
    table, and any month whose rows wait in a default partition. Nothing on SQLite."""
    from sqlalchemy.exc import OperationalError

    from app.partitions import ensure_ahead

    try:
        with session_scope(cfg) as session:
            created = ensure_ahead(session.connection(), today or today_shanghai())
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available: a long transaction was in the way
            raise
        # three months ahead leaves time: tomorrow's run creates them; the day's other jobs must not wait for it
        log.warning("partitions not created today: a transaction held the table past the lock timeout")
        return 0
    if created:
        log.info("partitions created=%s", created)
    return created


def build_scheduler(cfg) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=SHANGHAI, job_defaults={"coalesce": True, "max_instances": 1,
                                                                    "misfire_grace_time": 6 * 3600})
    scheduler.add_job(timed("daily-scans", run_daily_scans, LEASE_TTL), CronTrigger(hour=0, minute=30, timezone=SHANGHAI), args=[cfg],
                      id="daily-scans", name="daily proactive scans")
    scheduler.add_job(timed("audit-anchor", run_daily_anchor), CronTrigger(hour=0, minute=5, timezone=SHANGHAI), args=[cfg],
                      id="audit-anchor", name="daily audit chain anchor (written outside the database)")
    scheduler.add_job(timed("partitions", ensure_partitions), CronTrigger(hour=0, minute=10, timezone=SHANGHAI),
                      args=[cfg], id="partitions", name="monthly partitions three months ahead (PostgreSQL)")
    scheduler.add_job(timed("outbox-reconcile", outbox_reconcile.run), IntervalTrigger(minutes=5), args=[cfg], id="outbox-reconcile",
                      name="outbox reconciler (stuck rows re-queued, ALERT log lines)", coalesce=True, max_instances=1)
    return scheduler


def _stop_on_signals() -> None:
    """SIGINT and SIGTERM end the scheduler (KeyboardInterrupt in the main thread, as Python's own SIGINT handler
    does), whatever disposition the process inherited: one started in the background of a non-interactive shell
    inherits SIGINT ignored, Python then installs no handler, and Ctrl-C or `kill -INT` never reached it."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.default_int_handler)


def main(cfg) -> None:
    """Catch up today's partitions and scan at start, then run on schedule until stopped (SIGINT, SIGTERM)."""
    _stop_on_signals()
    timed("partitions", ensure_partitions)(cfg)
    timed("daily-scans", run_daily_scans, LEASE_TTL)(cfg)
    scheduler = build_scheduler(cfg)
    log.info("scheduler started: audit anchor at 00:05, daily scans and lifecycle jobs at 00:30 Asia/Shanghai")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")
