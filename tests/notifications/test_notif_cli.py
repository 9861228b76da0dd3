"""`zerotrip dispatch --once` prints one summary line."""

from __future__ import annotations

import pytest

from tests.notifications.helpers import grant, outbox_row, proposal


def test_dispatch_once_summary(cli, monkeypatch, session, resident, application, account, wechat):
    monkeypatch.setenv("WECHAT_API_BASE", wechat.base)
    monkeypatch.setenv("DISPATCH_QUIET_HOURS", "off")
    lonely = proposal(session, application(resident()))
    r = resident()
    acc = account(resident=r)
    grant(session, wechat, acc)
    row = proposal(session, application(r))
    result = cli("dispatch", "--once")
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("claimed=2 sent=1 no_channel=1 no_quota=0 retry=0 failed=0")
    assert outbox_row(session, row.id).state == "sent"
    assert outbox_row(session, lonely.id).state == "no_channel"
    assert cli("dispatch", "--once").stdout.strip().startswith("claimed=0 ")


@pytest.mark.parametrize("hours", ["22-24", "abc", "25-8", "8-8", "２２-８"])
def test_quiet_hours_it_cannot_read_stop_the_dispatcher_at_start_in_one_line(cfg, hours):
    """`22-24` crashed the dispatcher at night (hour must be in 0..23) with a chunk left `sending`; `25-8` was
    taken silently. Now every such value is refused when the dispatcher starts."""
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "app.cli", "dispatch", "--once"], capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": cfg.database_url, "DISPATCH_QUIET_HOURS": hours})
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "DISPATCH_QUIET_HOURS must be two different hours 0-23" in done.stderr
