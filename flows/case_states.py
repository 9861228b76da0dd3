"""The state machine of an application (申请): every state a case can be in and every move between two states, in
one table. Every change of `applications.state` goes through it — `move()` for one case, `sources_of()` for a
set-based UPDATE's WHERE — so a move the table does not list is refused (409 `state_conflict`) instead of leaving a
case in a state no screen or job knows.

Which of the steps a case passes through is the program's (Program.steps: confirm → rule; confirm → rule → review;
apply → economic check → home visit → street review → public notice → county approval); the table holds the union
of the moves their processes make, and the moves back that an upheld appeal (复核) makes.
"""

from __future__ import annotations

from app.db import utcnow
from app.errors import Conflict

# state → what it means (for docs and screens)
STATES = {
    "proposed": "a pre-filled proposal waiting for the resident's tap (主动发现)",
    "confirmed": "confirmed by the resident, its rule about to decide",
    "checking": "the household's economic check (信息核对)",
    "home_visit": "waiting for the home visit (入户调查)",
    "reviewing": "waiting for a staff review (审核)",
    "public_notice": "published for objections (公示)",
    "approving": "waiting for the approver's decision (审批)",
    "approved": "decided: approved",
    "rejected": "decided: rejected",
    "declined": "the resident said no (she may reopen it)",
    "expired": "ended without a decision (the subject died or moved away)",
}

_IN_PROGRESS = ("proposed", "confirmed", "checking", "home_visit", "reviewing", "public_notice", "approving")
_DECIDED = ("approved", "rejected")
# An upheld appeal puts a decided case back at one of its steps, or decides it again on corrected data.
_REOPENED_AT = ("checking", "home_visit", "reviewing", "approving", "approved")

TRANSITIONS: dict[str, frozenset[str]] = {
    "proposed": frozenset({"confirmed", "checking", "reviewing", "approved", "rejected", "declined", "expired"}),
    "confirmed": frozenset({"reviewing", "approving", "approved", "rejected", "expired"}),
    "checking": frozenset({"home_visit", "rejected", "expired"}),
    "home_visit": frozenset({"reviewing", "rejected", "expired"}),
    "reviewing": frozenset({"approving", "public_notice", "home_visit", "approved", "rejected", "expired"}),
    "public_notice": frozenset({"approving", "home_visit", "reviewing", "rejected", "expired"}),
    "approving": frozenset({"approved", "rejected", "expired"}),
    "approved": frozenset(_REOPENED_AT) - {"approved"},
    "rejected": frozenset(_REOPENED_AT),
    "declined": frozenset({"proposed"}),
    "expired": frozenset(),
}

IN_PROGRESS = _IN_PROGRESS  # open cases: reminded, expired on death or moving away, shown at the counter
DECIDED = _DECIDED
FINAL = ("approved", "rejected", "expired")


def may_move(source: str, to: str) -> bool:
    return to in TRANSITIONS.get(source, frozenset())


def sources_of(to: str) -> tuple[str, ...]:
    """The states from which a case may move to `to` (for a set-based UPDATE … WHERE state IN (…))."""
    return tuple(s for s, targets in TRANSITIONS.items() if to in targets)


_UNCHANGED = object()


def move(application, to: str, *, decision=_UNCHANGED) -> None:
    """Move one case to `to` if the table allows it (else 409 `state_conflict`, nothing changed), with its
    `decision` code when given (None clears it)."""
    if not may_move(application.state, to):
        raise Conflict(f"The application is {application.state} and cannot become {to}.",
                       error_code="state_conflict")
    application.state = to
    if decision is not _UNCHANGED:
        application.decision = decision
    application.updated_at = utcnow()
