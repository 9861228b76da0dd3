"""A reminder 90 days before the certificate a benefit rests on expires (issue 10 item 4): once per certificate,
not before the 90 days, not when a newer certificate is already there, not for a benefit no longer paid; through
the public CLI (`scheduler run-once --as-of`) and the resident's inbox as the dispatcher renders it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.models import Benefit, OutboxMessage
from notifications.templates import render
from tests.builders import make_resident
from tests.lifecycle.helpers import certificate

PROGRAM = "disability_care_subsidy"


def _run(cli, day: str) -> None:
    r = cli("scheduler", "run-once", "--as-of", day)
    assert r.exit_code == 0, r.output


def _reminders(session):
    session.expire_all()
    return session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "certificate_expiring")).all()


def _holder(session, cfg, name: str, expiry: date):
    person, number = make_resident(session, cfg, name=name, birth_date=date(1970, 1, 1))
    certificate(session, cfg, person, number, grade=1, issue=date(2022, 3, 1), expiry=expiry)
    session.add(Benefit(program=PROGRAM, resident_id=person.id, tier="grade1", monthly_amount_fen=10000,
                        start_month="2022-04", state="active"))
    session.commit()
    return person, number


def test_ninety_days_before_expiry_the_holder_is_reminded_once(session, cfg, cli):
    person, _ = _holder(session, cfg, "李秀梅", date(2027, 3, 31))
    _run(cli, "2026-12-30")  # 91 days before: not yet
    assert _reminders(session) == []
    _run(cli, "2026-12-31")  # 90 days before
    [message] = _reminders(session)
    assert (message.resident_id, message.data["expiry_date"]) == (person.id, "2027-03-31")
    said = render(session, message)
    assert said.title == "证件到期提醒" and "2027年3月31日" in said.body and "换领新证" in said.body
    _run(cli, "2027-01-02")
    assert len(_reminders(session)) == 1  # once per certificate


def test_no_reminder_when_renewed_already_or_when_nothing_is_paid(session, cfg, cli):
    renewed, number = _holder(session, cfg, "王建国", date(2027, 3, 31))
    certificate(session, cfg, renewed, number, grade=1, category="5", issue=date(2026, 12, 20),
                expiry=date(2032, 12, 19))
    stopped, _ = _holder(session, cfg, "赵春兰", date(2027, 3, 31))
    for benefit in session.scalars(select(Benefit).where(Benefit.resident_id == stopped.id)):
        benefit.state = "stopped"
    session.commit()
    _run(cli, "2027-01-05")
    assert _reminders(session) == []
