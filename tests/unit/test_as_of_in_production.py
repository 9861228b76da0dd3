"""`--as-of` after today is the test clock's day: refused in production, where a roll closed on a later day paid
months ahead and a scan proposed to people not yet eligible."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import click
import pytest

from app.cli.common import as_of_day
from flows.dates import today_shanghai


def test_a_day_ahead_is_refused_in_production_only():
    today = today_shanghai()
    ahead = datetime.combine(today + timedelta(days=90), datetime.min.time())
    before = datetime.combine(today - timedelta(days=3), datetime.min.time())
    production, development = SimpleNamespace(env="production"), SimpleNamespace(env="development")
    with pytest.raises(click.UsageError, match="refused in production"):
        as_of_day(production, ahead)
    assert as_of_day(production, before) == before.date()
    assert as_of_day(production, None) == today
    assert as_of_day(development, ahead) == ahead.date()  # the test clock's day, as the suites use it
