"""For every registered program (looped over, the fictional one of tests/engine included): each line of an application's `reasons` is the `text` of a
condition in that application's own trace — a 40-year-old's disability proposal never says "年满80周岁"."""

from __future__ import annotations

from datetime import date

import pytest

from flows import programs
from tests.authz import helpers as h
from tests.engine import fictional_program
from tests.lifecycle.helpers import benefit, certificate


@pytest.fixture
def registered():
    """The registry with the fictional program in it for the test (and without it after)."""
    programs.register(fictional_program.PROGRAM)
    yield programs.PROGRAMS
    programs.unregister(fictional_program.CODE)


@pytest.mark.parametrize("code", sorted([*programs.PROGRAMS, fictional_program.CODE]))
def test_every_reason_is_a_condition_of_the_application_s_own_trace(session, cfg, client, code, registered):
    assert code in registered
    owner, account, id_number = h.person(session, cfg, "周先生", birth=date(1986, 5, 4), household="HH-R1")
    spouse = h.person(session, cfg, "周太太", birth=date(1988, 2, 2), household="HH-R1")[0]
    certificate(session, cfg, owner, id_number, grade=1, issue=date(2025, 3, 1))
    benefit(session, spouse, program="dibao", tier="gap", fen=30000, start="2026-01")  # a 低保 household
    application = h.application(session, owner, program=code, state="proposed")
    assert application.trace == []  # as the set-based scans write it
    r = client.get(f"/api/v1/applications/{application.id}", headers=h.headers_for(session, cfg, account))
    assert r.status_code == 200, r.json
    body = r.json
    texts = {t["text"] for t in body["trace"] if t["kind"] == "decision"}
    assert body["reasons"], code
    assert set(body["reasons"]) <= texts, (code, body["reasons"], texts)
    assert not any("80周岁" in line for line in body["reasons"]) or code == "elderly_allowance"
