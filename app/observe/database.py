"""Gauges read from the database at scrape time, so they are right whichever host runs the dispatchers and
the scheduler: outbox depth by state, the oldest due pending row, the last send, scans' last success and
duration, job leases (holders, and outbox rows whose lease expired), and free disk under instance/."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool


def _epoch(naive_utc: datetime | None) -> float:
    return naive_utc.replace(tzinfo=UTC).timestamp() if naive_utc else 0.0


class DatabaseCollector:
    """A prometheus_client collector; one short connection per scrape (NullPool: nothing kept across fork)."""

    def __init__(self, cfg):
        self.cfg = cfg
        self._engine = None

    def engine(self):
        if self._engine is None:
            args = {"connect_args": {"timeout": 5}} if self.cfg.is_sqlite else {"connect_args": {"connect_timeout": 5}}
            self._engine = create_engine(self.cfg.database_url, poolclass=NullPool, **args)
        return self._engine

    def describe(self):
        return []

    def collect(self):
        up = GaugeMetricFamily("zerotrip_database_up", "1 when the metrics scrape could read the database")
        try:
            families = self._read()
        except Exception:  # noqa: BLE001 - a scrape reports the database as down, it never fails
            up.add_metric([], 0)
            families = []
        else:
            up.add_metric([], 1)
        yield up
        yield from families
        yield self._disk()

    def _read(self) -> list:
        from app.db import utcnow
        from app.models import JobLock, OutboxMessage, ScanRun

        o, now = OutboxMessage, utcnow()
        with self.engine().connect() as conn:
            by_state = conn.execute(select(o.state, func.count()).group_by(o.state)).all()
            oldest_due = conn.execute(select(func.min(o.next_attempt_at))
                                      .where(o.state == "pending", o.next_attempt_at <= now)).scalar()
            due = conn.execute(select(func.count()).where(o.state == "pending", o.next_attempt_at <= now)).scalar()
            last_sent = conn.execute(select(func.max(o.sent_at))).scalar()
            expired = conn.execute(select(func.count()).where(o.state.in_(("sending", "inflight")),
                                                              o.lease_until < now)).scalar()
            scans = conn.execute(select(ScanRun.program, func.max(ScanRun.finished_at))
                                 .where(ScanRun.state == "done").group_by(ScanRun.program)).all()
            durations = {program: conn.execute(select(ScanRun.duration_ms).where(
                ScanRun.program == program, ScanRun.finished_at == finished)).scalar() for program, finished in scans}
            leases = conn.execute(select(JobLock.name, JobLock.owner, JobLock.locked_until)).all()

        depth = GaugeMetricFamily("zerotrip_outbox_messages", "Outbox rows by state", labels=["state"])
        for state, count in by_state:
            depth.add_metric([state], count)
        families = [depth]
        age = GaugeMetricFamily("zerotrip_outbox_oldest_pending_age_seconds",
                                "Seconds since the oldest due pending row became due (0 when none is due)")
        age.add_metric([], max(0.0, (now - oldest_due).total_seconds()) if oldest_due else 0.0)
        due_family = GaugeMetricFamily("zerotrip_outbox_due_messages", "Pending rows due now")
        due_family.add_metric([], due or 0)
        sent = GaugeMetricFamily("zerotrip_outbox_last_sent_timestamp_seconds", "When a row was last sent")
        sent.add_metric([], _epoch(last_sent))
        expired_family = GaugeMetricFamily("zerotrip_outbox_expired_leases",
                                           "Rows in sending/inflight whose dispatcher lease has expired")
        expired_family.add_metric([], expired or 0)
        families += [age, due_family, sent, expired_family]

        last = GaugeMetricFamily("zerotrip_scan_last_success_timestamp_seconds", "When a scan last finished",
                                 labels=["program"])
        took = GaugeMetricFamily("zerotrip_scan_duration_seconds", "Duration of the last finished scan",
                                 labels=["program"])
        for program, finished in scans:
            last.add_metric([program], _epoch(finished))
            took.add_metric([program], (durations.get(program) or 0) / 1000)
        families += [last, took]

        held = GaugeMetricFamily("zerotrip_lease_held", "1 while a job lease is held (by holder)",
                                 labels=["lease", "holder"])
        until = GaugeMetricFamily("zerotrip_lease_expiry_timestamp_seconds", "When each job lease expires",
                                  labels=["lease", "holder"])
        for name, owner, locked_until in leases:
            held.add_metric([name, owner], 1 if locked_until and locked_until > now else 0)
            until.add_metric([name, owner], _epoch(locked_until))
        return families + [held, until]

    def _disk(self):
        ratio = GaugeMetricFamily("zerotrip_disk_free_ratio", "Free space on the instance/ filesystem (0..1)",
                                  labels=["path"])
        try:
            usage = shutil.disk_usage(self.cfg.instance_path)
            ratio.add_metric(["instance"], usage.free / usage.total if usage.total else 0)
        except OSError:
            pass
        return ratio
