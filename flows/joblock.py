"""A database lease so that a scheduled job runs in one process only, even with two schedulers."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from app.db import session_factory, utcnow
from app.digits import is_ascii_digits
from app.models import JobLock

OWNER = f"{socket.gethostname()}:{os.getpid()}"


def acquire(cfg, name: str, ttl_seconds: int = 3600, owner: str = OWNER, *, take_over_gone: bool = False) -> bool:
    """Take the lease `name` for `ttl_seconds` (or renew it when `owner` holds it). With `take_over_gone`, also
    when its holder ran on this host and its process no longer exists (killed: SIGKILL, SIGTERM, a power cut)
    — a lease for hours would otherwise keep the next run waiting that long."""
    now = utcnow()
    until = now + timedelta(seconds=ttl_seconds)
    with session_factory(cfg)() as s:
        taken = s.execute(
            update(JobLock)
            .where(JobLock.name == name, (JobLock.locked_until < now) | (JobLock.owner == owner))
            .values(owner=owner, locked_until=until)
        ).rowcount
        if not taken and take_over_gone:
            holder = s.scalar(select(JobLock.owner).where(JobLock.name == name))
            if holder is not None and gone(holder):
                taken = s.execute(update(JobLock).where(JobLock.name == name, JobLock.owner == holder)
                                  .values(owner=owner, locked_until=until)).rowcount
        if not taken:
            try:
                s.execute(insert(JobLock).values(name=name, owner=owner, locked_until=until))
                taken = 1
            except IntegrityError:
                s.rollback()
                return False
        s.commit()
        return bool(taken)


def holder(cfg, name: str) -> str | None:
    """Who holds the lease `name` now (host:pid), or None."""
    with session_factory(cfg)() as s:
        return s.scalar(select(JobLock.owner).where(JobLock.name == name, JobLock.locked_until >= utcnow()))


def gone(owner: str) -> bool:
    """The owner ran on this host and its process no longer exists."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not is_ascii_digits(pid):
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def release(cfg, name: str, owner: str = OWNER) -> None:
    with session_factory(cfg)() as s:
        s.execute(
            update(JobLock).where(JobLock.name == name, JobLock.owner == owner).values(locked_until=utcnow())
        )
        s.commit()
