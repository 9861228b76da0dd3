"""The gated roll (issue 12 item 8): `payroll --close` writes no bank file; `payroll release` only after a
supervisor other than the closer signed the anomaly report off (maker-checker), on the CLI and the workbench API."""

from __future__ import annotations

from datetime import date

from click.testing import CliRunner
from sqlalchemy import select

from app.models import AuditEvent
from tests.authz import helpers as h
from tests.builders import make_resident
from tests.payroll.test_payroll import _account, benefit

PASSWORD = "correct horse battery"


def _cli(cfg, *args):
    from app.cli import cli as zerotrip

    return CliRunner().invoke(zerotrip, list(args), env={"DATABASE_URL": cfg.database_url,
                                                         "ZEROTRIP_PASSWORD": PASSWORD}, catch_exceptions=False)


def supervisor(session, cfg, username, role="supervisor"):
    return h.staff(session, cfg, role, username=username, password=PASSWORD)


def sign_off(cfg, month, by, note="异常报告已逐条核对"):
    return _cli(cfg, "payroll", "sign-off", "--month", month, "--by", by, "--note", note)


def release(cfg, month, by, out):
    return _cli(cfg, "payroll", "release", "--month", month, "--by", by, "--out", str(out))


def _last(result) -> dict:
    return dict(p.split("=", 1) for p in result.stdout.strip().splitlines()[-1].split())


def test_the_roll_is_released_only_after_another_supervisor_signed_it_off(cfg, session, tmp_path):
    person, _ = make_resident(session, cfg, birth_date=date(1940, 1, 1))
    _account(session, cfg, person)
    benefit(session, person, start="2026-11")
    supervisor(session, cfg, "closer", role="supervisor")
    supervisor(session, cfg, "checker")
    supervisor(session, cfg, "clerk1", role="clerk")
    closed = _cli(cfg, "payroll", "--month", "2026-11", "--close", "--by", "closer", "--as-of", "2026-11-05")
    assert closed.exit_code == 0, closed.output
    assert (_last(closed)["csv"], _last(closed)["signoff"]) == ("none", "pending")
    assert list(tmp_path.iterdir()) == []

    early = release(cfg, "2026-11", "clerk1", tmp_path)
    assert early.exit_code == 2 and "roll_not_signed_off" in early.stderr and list(tmp_path.iterdir()) == []
    own = sign_off(cfg, "2026-11", "closer")
    assert own.exit_code == 2 and "self_approval" in own.stderr
    clerk = sign_off(cfg, "2026-11", "clerk1")
    assert clerk.exit_code == 2 and "supervisor" in clerk.stderr
    blank = sign_off(cfg, "2026-11", "checker", note="  ")
    assert blank.exit_code == 2 and "note_missing" in blank.stderr
    nobody = sign_off(cfg, "2026-11", "nobody-here")  # the same words as a wrong password
    wrong = _cli(cfg, "payroll", "sign-off", "--month", "2026-11", "--by", "checker", "--note", "x", "--password", "no")
    assert nobody.exit_code == wrong.exit_code == 2 and nobody.stderr == wrong.stderr
    generic = _cli(cfg, "approvals", "list")
    approval_id = generic.stdout.split()[0]
    assert _cli(cfg, "approvals", "approve", approval_id, "--by", "checker").exit_code == 2  # only via sign-off

    # the closer withdraws the request and asks again: a view writes nothing, a new close keeps her as its maker
    assert _cli(cfg, "approvals", "withdraw", approval_id, "--by", "closer").exit_code == 0
    viewed = _cli(cfg, "payroll", "--month", "2026-11", "--as-of", "2026-11-05")
    assert _last(viewed)["signoff"] == "withdrawn", viewed.output
    reclosed = _cli(cfg, "payroll", "--month", "2026-11", "--close", "--as-of", "2026-11-05")  # no --by
    assert _last(reclosed)["signoff"] == "pending"
    again = sign_off(cfg, "2026-11", "closer")
    assert again.exit_code == 2 and "self_approval" in again.stderr

    signed = sign_off(cfg, "2026-11", "checker")
    assert signed.exit_code == 0 and _last(signed)["signoff"] == "approved", signed.output
    out = release(cfg, "2026-11", "clerk1", tmp_path)
    assert out.exit_code == 0, out.output
    assert _last(out)["released"] == "1" and len(list(tmp_path.iterdir())) == 1
    # once: a second bank file sent is a second payment; --again writes the same file once more, audited
    elsewhere = tmp_path / "second"
    twice = release(cfg, "2026-11", "clerk1", elsewhere)
    assert twice.exit_code == 2 and "roll_released" in twice.stderr and not elsewhere.exists(), twice.output
    again = _cli(cfg, "payroll", "release", "--month", "2026-11", "--by", "clerk1", "--out", str(elsewhere), "--again")
    assert again.exit_code == 0 and _last(again)["released"] == "1", again.output
    first, second = ([f.read_bytes() for f in d.iterdir() if f.is_file()] for d in (tmp_path, elsewhere))
    assert first == second and len(first) == 1
    actions = [a for (a,) in session.execute(select(AuditEvent.action).where(AuditEvent.action.like("payroll.release%")))]
    assert sorted(actions) == ["payroll.release", "payroll.release_again"]
    unwritable = _cli(cfg, "payroll", "release", "--month", "2026-11", "--by", "clerk1", "--out", "/proc/nope", "--again")
    assert unwritable.exit_code == 1 and "cannot write the bank files" in unwritable.stderr
    assert "Traceback" not in unwritable.output


def test_the_workbench_api_shows_and_signs_off_the_roll(cfg, session, client):
    person, _ = make_resident(session, cfg, birth_date=date(1940, 1, 1))
    _account(session, cfg, person)
    benefit(session, person, start="2026-11")
    closer, _ = supervisor(session, cfg, "closer2")
    assert _cli(cfg, "payroll", "--month", "2026-11", "--close", "--by", "closer2",
                "--as-of", "2026-11-05").exit_code == 0
    _, closer_headers = h.staff(session, cfg, "supervisor", username="closer2b")
    _, other = h.staff(session, cfg, "supervisor")
    _, reviewer = h.staff(session, cfg, "reviewer")
    status = client.get("/api/v1/staff/payroll/2026-11", headers=other)
    assert status.status_code == 200 and status.json["signoff"] == "pending" and status.json["state"] == "closed"
    assert client.post("/api/v1/staff/payroll/2026-11/sign-off", headers=reviewer,
                       json={"note": "看过了"}).status_code == 403
    signed = client.post("/api/v1/staff/payroll/2026-11/sign-off", headers=other, json={"note": "异常0条,已核对"})
    assert signed.status_code == 200 and signed.json["signoff"] == "approved" and signed.json["note"] == "异常0条,已核对"
    again = client.post("/api/v1/staff/payroll/2026-11/sign-off", headers=closer_headers, json={"note": "再签"})
    assert again.status_code == 409
    assert client.get("/api/v1/staff/payroll/2026-12", headers=other).json["state"] == "none"
    assert closer.id
