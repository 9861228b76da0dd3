"""A certificate renewed after expiry re-proposes the subsidy as a new benefit period from the month after the
new issue date; at most one active or suspended benefit per program and person (closed periods unlimited)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.models import Application, Benefit
from flows import casework
from tests.builders import make_resident
from tests.lifecycle.helpers import certificate


def _run(cli, day: str) -> None:
    r = cli("scheduler", "run-once", "--as-of", day)
    assert r.exit_code == 0, r.output


def test_renewed_certificate_starts_a_new_benefit_period(session, cfg, cli):
    person, number = make_resident(session, cfg, birth_date=date(1970, 1, 1))
    certificate(session, cfg, person, number, grade=1, issue=date(2025, 3, 1), expiry=date(2026, 11, 30))
    _run(cli, "2026-11-25")
    first = session.scalars(select(Application).where(Application.program == "disability_care_subsidy")).one()
    casework.confirm(session, first, "acct-1", today=date(2026, 11, 26))
    casework.review(session, first, "staff-1", approve=True, today=date(2026, 11, 27))
    casework.approve(session, first, "staff-2", approve=True, today=date(2026, 11, 30))
    session.commit()
    _run(cli, "2026-12-01")  # the certificate expired: stopped
    session.expire_all()
    old = session.scalars(select(Benefit)).one()
    assert (old.state, old.end_month) == ("stopped", "2026-11")
    _run(cli, "2027-01-10")  # no valid certificate: nothing proposed
    assert session.scalars(select(Application).where(Application.program == "disability_care_subsidy")).all() == [first]

    certificate(session, cfg, person, number, grade=1, category="5", issue=date(2027, 2, 14), expiry=date(2032, 2, 13))
    _run(cli, "2027-02-15")
    session.expire_all()
    renewed = session.scalars(select(Application).where(Application.program == "disability_care_subsidy",
                                                        Application.id != first.id)).one()
    assert renewed.state == "proposed" and renewed.period == "2027-02"
    assert renewed.prefill["start_month"]["value"] == "2027-03"  # the month after the new issue date
    _run(cli, "2027-02-16")  # proposed once
    assert len(session.scalars(select(Application).where(Application.program == "disability_care_subsidy")).all()) == 2
    casework.confirm(session, renewed, "acct-1", today=date(2027, 2, 16))
    casework.review(session, renewed, "staff-1", approve=True, today=date(2027, 2, 17))
    casework.approve(session, renewed, "staff-2", approve=True, today=date(2027, 2, 18))
    session.commit()
    periods = sorted((b.start_month, b.state) for b in session.scalars(select(Benefit)))
    assert periods == [("2026-01", "stopped"), ("2027-03", "active")]  # closed period, new period

    session.add(Benefit(program="disability_care_subsidy", resident_id=person.id, tier="grade1",
                        monthly_amount_fen=10000, start_month="2027-04", state="active"))
    with pytest.raises(IntegrityError):  # a second open period is refused by the partial unique index
        session.commit()
    session.rollback()
