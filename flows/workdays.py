"""Working days (工作日) for statutory time limits, from the maintained `chinese_calendar` library.

`chinese_calendar` knows the holidays and adjusted working days (调休) of every year the State Council has
announced (1.11: up to 2026). For a later year it raises NotImplementedError; we then fall back to the
rule-based part we can be sure of — weekends plus the fixed-date national holidays (1 January, 1–3 May,
1–7 October) — and log a warning once per year, never crash. The lunar holidays (春节, 清明, 端午, 中秋) of such
a year are therefore counted as working days until the library is upgraded: deadlines come out early, never
late, which is the safe side for a statutory limit.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

log = logging.getLogger("zerotrip.workdays")

FIXED_HOLIDAYS = {(1, 1)} | {(5, d) for d in (1, 2, 3)} | {(10, d) for d in range(1, 8)}
_warned: set[int] = set()


@lru_cache(maxsize=64)
def covered(year: int) -> bool:
    """Whether the library has the announced calendar of `year`."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def _fallback_workday(day: date) -> bool:
    if day.year not in _warned:
        _warned.add(day.year)
        log.warning("chinese_calendar has no announced calendar for %s: counting weekends and fixed-date "
                    "holidays only (upgrade chinesecalendar when the State Council publishes it)", day.year)
    return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS


@lru_cache(maxsize=8192)
def is_workday(day: date) -> bool:
    if covered(day.year):
        return bool(chinese_calendar.is_workday(day))
    return _fallback_workday(day)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (the start day itself is not counted); n=0 gives `start`."""
    day, left = start, n
    while left > 0:
        day += timedelta(days=1)
        if is_workday(day):
            left -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]: how many have passed since `start` by the end of `end`."""
    if end <= start:
        return 0
    return sum(1 for i in range(1, (end - start).days + 1) if is_workday(start + timedelta(days=i)))


def calendar_note(start: date, due: date) -> str:
    """'' when the library covered every year in [start, due]; otherwise a note for staff."""
    missing = [y for y in range(start.year, due.year + 1) if not covered(y)]
    return f"{','.join(map(str, missing))}年节假日未公布,按周末及固定节日推算" if missing else ""
