"""The test clock (ZEROTRIP_FAKE_TODAY=YYYY-MM-DD): one documented way for tests to let days pass, refused in
production. `fake_today()` is the day it says; `clock_now()` the moment on it — what the day-counting parts of
the product take as now: decisions (their letters and appeal periods), proxy grants and requests (their 7 days,
their end). Sign-ins, tokens, rate limits and the outbox keep the real clock: they count seconds, not days."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
FAKE_TODAY = "ZEROTRIP_FAKE_TODAY"


class FakeClockRefused(RuntimeError):
    """ZEROTRIP_FAKE_TODAY was set in production (ZEROTRIP_ENV=production)."""


def fake_today(environ=None) -> date | None:
    """The test clock: ZEROTRIP_FAKE_TODAY=YYYY-MM-DD makes every `today_shanghai()` of this process (API,
    scheduler, CLI) answer that day. Refused in production: a wrong calendar would pay the wrong months."""
    environ = os.environ if environ is None else environ
    raw = environ.get(FAKE_TODAY, "").strip()
    if not raw:
        return None
    if environ.get("ZEROTRIP_ENV", "").strip() == "production":
        raise FakeClockRefused(f"{FAKE_TODAY} is a test clock and is refused in production")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FakeClockRefused(f"{FAKE_TODAY} must be YYYY-MM-DD, not {raw[:20]!r}") from None


def clock_now() -> datetime:
    """Now as a stored timestamp (naive UTC) on the test clock: without it the real now (`app.db.utcnow`); with it,
    that day at this moment's time of day in Shanghai."""
    now = datetime.now(SHANGHAI)
    fake = fake_today()
    if fake is not None:
        now = datetime.combine(fake, now.timetz())
    return now.astimezone(UTC).replace(tzinfo=None)
