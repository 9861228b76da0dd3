"""`zerotrip dispatch --once` prints one summary line."""

from __future__ import annotations

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
