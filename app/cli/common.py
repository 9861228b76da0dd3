"""Shared CLI plumbing: config, schema-at-head guard, progress on stderr, one summary line on stdout."""

from __future__ import annotations

import signal
import sys
import threading
import time
from contextlib import contextmanager

import click

from app.config import ConfigError, load_config

EXIT_BAD_INPUT = 2


def config_or_exit(**overrides):
    try:
        return load_config(overrides)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _unreachable(cfg, exc: Exception) -> click.ClickException:
    return click.ClickException(f"database not reachable ({type(exc).__name__}): {cfg.database_url.split('@')[-1]}")


def reachable_config(**overrides):
    """Config for a command that needs the database to answer, whatever its schema (backup, restore, upgrade)."""
    from app.migrate import current_revisions

    cfg = config_or_exit(**overrides)
    try:
        current_revisions(cfg.database_url)
    except Exception as exc:  # noqa: BLE001 - unreachable database is reported, not traced
        raise _unreachable(cfg, exc) from None
    return cfg


def ready_config(**overrides):
    """Config for a command that needs the schema at head; refuses clearly otherwise."""
    from app.migrate import ahead_message, is_at_head, unknown_revisions

    cfg = config_or_exit(**overrides)
    try:
        at_head = is_at_head(cfg.database_url)
    except Exception as exc:  # noqa: BLE001 - unreachable database is reported, not traced
        raise _unreachable(cfg, exc) from None
    if not at_head:
        unknown = unknown_revisions(cfg.database_url)
        if unknown:
            raise click.ClickException(ahead_message(unknown))
        raise click.ClickException("database schema is not at head: run `zerotrip db upgrade` first")
    return cfg


def summary(**counts) -> None:
    """The last line on stdout: key=value pairs."""
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))


class Progress:
    """Progress on stderr, at most a few lines a second."""

    def __init__(self, label: str, total: int | None = None):
        self.label, self.total, self._last = label, total, 0.0
        self.started = time.monotonic()

    def update(self, done: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.5:
            return
        self._last = now
        total = f"/{self.total}" if self.total else ""
        sys.stderr.write(f"{self.label}: {done}{total} ({now - self.started:.1f}s)\n")
        sys.stderr.flush()


EARLIEST_DAY_YEAR = 1900
LATEST_YEARS_AHEAD = 2


def day_bounds():
    """(earliest, latest) day a command may be run as of: 1900-01-01 to two years after today (the test clock's
    today when set): a date outside is a typo, and 9999-12-31 wrote proposals for everybody."""
    from datetime import date

    from flows.dates import today_shanghai

    today = today_shanghai()
    return date(EARLIEST_DAY_YEAR, 1, 1), date(today.year + LATEST_YEARS_AHEAD, 12, 31)


class DayType(click.DateTime):
    """`--as-of YYYY-MM-DD`, within `day_bounds()` (a datetime, as click.DateTime gives)."""

    def __init__(self):
        super().__init__(formats=["%Y-%m-%d"])

    def convert(self, value, param, ctx):
        moment = super().convert(value, param, ctx)
        earliest, latest = day_bounds()
        if not earliest <= moment.date() <= latest:
            self.fail(f"{moment.date().isoformat()} is not between {earliest.isoformat()} and {latest.isoformat()}",
                      param, ctx)
        return moment


def as_of_day(cfg, as_of):
    """The day a command runs as of: `--as-of` (a DayType datetime) or today. In production a day after today is
    refused (a roll closed on tomorrow's data paid months ahead, a scan proposed to people not yet eligible):
    there a later day is only the test clock's, which production refuses too."""
    from flows.dates import today_shanghai

    today = today_shanghai()
    if as_of is None:
        return today
    if cfg.env == "production" and as_of.date() > today:
        raise click.UsageError(f"--as-of {as_of.date().isoformat()} is after today ({today.isoformat()}): a day "
                               "ahead is a test clock, refused in production (ZEROTRIP_ENV=production)")
    return as_of.date()


def _raise_interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


@contextmanager
def sigterm_as_interrupt():
    """SIGTERM (an operator's kill, a service manager's stop) ends the block as Ctrl-C does: its clean-up runs
    (a transaction rolls back, a child tool is stopped, set-aside data is put back, leases are released) instead
    of the process vanishing with all of them left behind. Only the main thread may set a handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

