"""Calendar arithmetic in Asia/Shanghai: ages, the birthday cutoff for "aged N on date D", months."""

from __future__ import annotations

from datetime import UTC, date, datetime

# The test clock lives below the flows (app.clock), where authorization reads it too; named here for the flows.
from app.clock import FAKE_TODAY, SHANGHAI, FakeClockRefused, clock_now, fake_today  # noqa: F401


def today_shanghai(now: datetime | None = None) -> date:
    if now is None:
        fake = fake_today()
        if fake is not None:
            return fake
    return (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI).date()


def shanghai_date(naive_utc: datetime) -> date:
    """The day in Shanghai of a stored timestamp (naive UTC, `app.db.utcnow`): from 16:00 UTC it is already the
    next day there, the day `today_shanghai()` answers."""
    return today_shanghai(naive_utc.replace(tzinfo=UTC))


def end_of_day(day: date) -> datetime:
    """23:59:59 of `day` in Shanghai as a stored timestamp (naive UTC): how a task's `due_at` is kept."""
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def nth_birthday(born: date, n: int) -> date:
    """The day someone becomes n: a 29 February birth turns n on 1 March in common years."""
    year = born.year + n
    if born.month == 2 and born.day == 29 and not is_leap(year):
        return date(year, 3, 1)
    return born.replace(year=year)


def age_on(born: date, on: date) -> int:
    age = on.year - born.year
    return age if nth_birthday(born, age) <= on else age - 1


def birth_cutoff(on: date, n: int) -> date:
    """The latest birth date of someone aged at least n on `on` (birth_date <= cutoff ⇔ aged ≥ n)."""
    year = on.year - n
    if on.month == 2 and on.day == 29 and not is_leap(year):
        return date(year, 2, 28)
    return on.replace(year=year)


def month_of(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def month_index(month: str) -> int:
    year, mon = month.split("-")
    return int(year) * 12 + int(mon) - 1


def month_from_index(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def next_month(d: date) -> str:
    return month_from_index(d.year * 12 + d.month)


def zh_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"
