"""A database lease so that a scheduled job runs in one process only, even with two schedulers."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from app.db import session_factory, utcnow
from app.models import JobLock

OWNER = f"{socket.gethostname()}:{os.getpid()}"


def acquire(cfg, name: str, ttl_seconds: int = 3600, owner: str = OWNER) -> bool:
    now = utcnow()
    until = now + timedelta(seconds=ttl_seconds)
    with session_factory(cfg)() as s:
        taken = s.execute(
            update(JobLock)
            .where(JobLock.name == name, (JobLock.locked_until < now) | (JobLock.owner == owner))
            .values(owner=owner, locked_until=until)
        ).rowcount
        if not taken:
            try:
                s.execute(insert(JobLock).values(name=name, owner=owner, locked_until=until))
                taken = 1
            except IntegrityError:
                s.rollback()
                return False
        s.commit()
        return bool(taken)


def release(cfg, name: str, owner: str = OWNER) -> None:
    with session_factory(cfg)() as s:
        s.execute(
            update(JobLock).where(JobLock.name == name, JobLock.owner == owner).values(locked_until=utcnow())
        )
        s.commit()
