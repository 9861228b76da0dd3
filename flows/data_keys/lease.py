"""One rotation at a time: a lease in `job_locks`, renewed with every batch. A run killed on this host leaves a
lease whose process is gone: the next run takes it over at once; elsewhere it lapses after LEASE_SECONDS."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from app.db import utcnow
from app.models import JobLock
from flows import joblock

NAME = "data-key-rotation"
LEASE_SECONDS = 120
OWNER = f"{socket.gethostname()}:{os.getpid()}"


def take(cfg, engine: Engine) -> str | None:
    """Take the lease; None when taken, else the owner that holds it."""
    if joblock.acquire(cfg, NAME, LEASE_SECONDS, OWNER):
        return None
    with engine.begin() as conn:
        holder = conn.execute(select(JobLock.owner).where(JobLock.name == NAME)).scalar()
        if holder is not None and joblock.gone(holder):
            taken = conn.execute(update(JobLock).where(JobLock.name == NAME, JobLock.owner == holder)
                                 .values(owner=OWNER, locked_until=utcnow() + timedelta(seconds=LEASE_SECONDS)))
            if taken.rowcount == 1:
                return None
    return holder


def renew(conn) -> None:
    conn.execute(update(JobLock).where(JobLock.name == NAME, JobLock.owner == OWNER)
                 .values(locked_until=utcnow() + timedelta(seconds=LEASE_SECONDS)))


def release(cfg) -> None:
    joblock.release(cfg, NAME, OWNER)
