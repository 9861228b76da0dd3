"""The scheduler: never inside the web app; a database lease keeps each job to one runner."""

import threading

from flows import joblock


def test_create_app_starts_no_scheduler(cfg):
    from app import create_app

    for _ in range(3):
        create_app(cfg)
    assert not [t for t in threading.enumerate() if "APScheduler" in t.name]


def test_a_second_scheduler_cannot_take_the_job_lease(cfg):
    assert joblock.acquire(cfg, "scan:test", owner="scheduler-a")
    assert not joblock.acquire(cfg, "scan:test", owner="scheduler-b")
    joblock.release(cfg, "scan:test", owner="scheduler-a")
    assert joblock.acquire(cfg, "scan:test", owner="scheduler-b")


def test_the_daily_job_skips_when_the_lease_is_held(cfg, caplog):
    import logging

    from app.db import session_factory
    from app.models import ScanRun
    from app.scheduler import run_daily_scans

    assert joblock.acquire(cfg, "daily:scans", owner="someone-else")
    with caplog.at_level(logging.INFO):
        run_daily_scans(cfg)
    assert "lock held" in caplog.text
    with session_factory(cfg)() as s:
        assert s.query(ScanRun).count() == 0
