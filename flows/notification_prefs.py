"""The resident's message preferences row (notification_prefs, keyed by resident_id)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import NotificationPref
from flows.conflicts import is_unique_violation


def first_row(session: Session, resident_id: int) -> NotificationPref:
    """Insert the resident's row; if a parallel request inserted it a moment ago, load that one (a PUT: the
    caller then overwrites it, the last one wins) instead of failing on the primary key."""
    pref = NotificationPref(resident_id=resident_id, proxy_mode="also")
    try:
        with session.begin_nested():
            session.add(pref)
            session.flush()
        return pref
    except IntegrityError as exc:
        if not is_unique_violation(exc, "notification_prefs", "resident_id"):
            raise
    return session.get(NotificationPref, resident_id, populate_existing=True)
