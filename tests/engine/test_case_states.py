"""One transition table for the state of an application (issue 10 item 1): every move goes through
flows.case_states, a move the table does not list is refused, and no other file writes `application.state`."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.errors import Conflict
from flows import case_states
from flows.programs import PROGRAMS

ROOT = Path(__file__).resolve().parents[2]


def test_the_table_knows_every_state_and_every_open_state_can_end():
    assert set(case_states.TRANSITIONS) == set(case_states.STATES)
    assert all(targets <= set(case_states.STATES) for targets in case_states.TRANSITIONS.values())
    assert set(case_states.sources_of("expired")) == set(case_states.IN_PROGRESS)
    assert case_states.TRANSITIONS["expired"] == frozenset()
    for state in case_states.IN_PROGRESS:  # every open case can be decided or end
        assert case_states.TRANSITIONS[state] & {"approved", "rejected", "expired", "declined"}


def test_every_step_a_program_waits_in_is_a_state_of_the_table():
    for program in PROGRAMS.values():
        for state in (program.step_actions or {}):
            assert state in case_states.STATES, (program.code, state)


def test_a_move_the_table_does_not_list_is_refused_and_changes_nothing():
    case = SimpleNamespace(state="expired", decision="deceased", updated_at=None)
    with pytest.raises(Conflict) as refused:
        case_states.move(case, "approved", decision="rule_met")
    assert refused.value.error_code == "state_conflict" and (case.state, case.decision) == ("expired", "deceased")
    case = SimpleNamespace(state="reviewing", decision=None, updated_at=None)
    case_states.move(case, "approved", decision="rule_met")
    assert (case.state, case.decision) == ("approved", "rule_met") and case.updated_at is not None


# an assignment statement whose targets include application.state (a, b = …; application.state = …)
WRITES_STATE = re.compile(r"^\s*(?:[\w.]+\s*,\s*)*application\.state\s*(?:,\s*[\w.]+\s*)*=(?!=)")


def test_no_other_file_writes_an_application_state():
    found = []
    for base in ("app", "flows"):
        for path in ROOT.joinpath(base).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel == "flows/case_states.py":
                continue
            for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
                if WRITES_STATE.search(line):
                    found.append(f"{rel}:{n}: {line.strip()}")
    assert found == []
