"""What every program provides: identity, guide, parameters, rule and process facts."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Condition:
    """One checked condition of a decision: what, the value seen, where it came from, and the outcome."""

    code: str
    passed: bool
    value: str
    source: str
    source_date: str
    citizen_text: str

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "passed": self.passed,
            "value": self.value,
            "source": self.source,
            "source_date": self.source_date,
            "text": self.citizen_text,
        }


@dataclass(frozen=True)
class Decision:
    eligible: bool
    conditions: tuple[Condition, ...]
    tier: str = ""
    monthly_amount_fen: int = 0
    start_month: str = ""

    def trace(self) -> list[dict]:
        return [c.as_dict() for c in self.conditions]


@dataclass(frozen=True)
class Step:
    """One step of a program's process: who does it, its statutory time limit, whether the citizen travels."""

    code: str
    name: str
    actor: str  # system | citizen | street | community | county
    working_days: int = 0
    citizen_trip: bool = False


@dataclass(frozen=True)
class ParamSpec:
    """An operator-settable parameter (`zerotrip params set PROGRAM KEY VALUE`): its type and allowed range.

    `key` is a parameter name, or "name.label" for one entry of a table-valued parameter (a tier's amount,
    a grade's amount). kind "int" takes ASCII digits; kind "yuan" takes an amount like 60.00, stored in fen."""

    kind: str  # int | yuan
    minimum: int  # in the stored unit (fen for yuan)
    maximum: int
    text: str  # what it is, for the guide and the CLI listing


@dataclass(frozen=True)
class FormField:
    """One field of a program's citizen-started form (what only the citizen can say, e.g. informal income).

    kind "yuan" takes an amount like 300.00 (handed to the program's `apply` hook in fen, 0 when left out);
    kind "text" takes free text of at most `max_length` characters ("" when left out)."""

    name: str
    kind: str  # yuan | text
    max_length: int = 500


@dataclass(frozen=True)
class Program:
    code: str
    name: str
    short_name: str
    start_date: date
    needs_review: bool
    trip_level: str
    time_limit_days: int
    guide: dict
    parameters: dict
    decide: Callable = field(repr=False)
    steps: tuple[Step, ...] = ()
    exclusive_with: tuple[str, ...] = ()
    public_notice: bool = False
    # The staff decision a case in a given state waits for, as the workbench's case page offers it (data):
    # state → {"path": the route under /api/v1/staff/applications/{id}/, "reasons": {code: text}}.
    step_actions: dict = field(default_factory=dict)
    # Operator-settable parameters (key → ParamSpec) and, for programs whose amount follows the parameters,
    # `amount_for(benefit_tier, birth_date, month) -> (tier, fen) | None` used to re-price benefits in payment.
    parameter_specs: dict = field(default_factory=dict)
    amount_for: Callable | None = field(default=None, repr=False)
    # guide_amounts(on) → {label: "yuan"}: the guide's amounts, generated from the parameters in force on `on`.
    guide_amounts: Callable | None = field(default=None, repr=False)
    # For a program paid to a household case (低保): household_facts(alive_members, economic_records, holder,
    # application, mask_name) → the rule's Facts, so that a member's death re-prices the case (flows.lifecycle).
    household_facts: Callable | None = field(default=None, repr=False)
    # Events of this program that the data exchange may publish to subscribed departments (flows.exchange
    # .publish): among "start", "stop", "suspend", "resume". Empty: nothing is published.
    published_events: tuple[str, ...] = ()
    # Generic hooks (issue 11), each optional, named "package.module:function" because a rule module stays pure
    # (no database): the casework that implements them lives outside flows.programs; `hook()` resolves them.
    # daily(conn, dialect, as_of) -> counts: the program's own step of the daily lifecycle run (proposals made
    #   from partner data or events, e.g. a death), run after the generic jobs, in its own transaction;
    # confirm(session, application, actor, today) -> Application: the program's own confirmation (an applicant
    #   who is not the subject, a one-off payment instead of a monthly benefit) instead of the generic one.
    # facts(session, application, as_of) -> Facts: what the program's rule needs, for a trace shown before the
    #   decision (flows.casework.rule_trace).
    # trigger(session, staff, options) -> Approval: a grant started by an operator for everyone counted (no
    #   application, no confirmation), pending until a second admin approves (`zerotrip programs trigger`).
    # reopen(session, application, today, cause) -> Application: put a decided application back at the right
    #   step of the program's own process (an upheld appeal, flows.appeals); without it, flows.casework.reopen.
    # apply(session, applicant, actor, form, today) -> Application: an application the citizen starts herself
    #   (her own form at /m/, or the clerk at the counter on her behalf, flows.counter.start_application), `form`
    #   holding the fields of `apply_form` (yuan in fen); the program's own rules (one in progress, one a month)
    #   answer a repeat. Without it the program is not applied for by the citizen (proposals only).
    daily: str = ""
    confirm: str = ""
    apply: str = ""
    apply_form: tuple[FormField, ...] = ()
    reopen: str = ""
    facts: str = ""
    trigger: str = ""
    # An application whose subject is a deceased person (the applicant is someone else): a death does not expire
    # it (flows.lifecycle.jobs).
    about_the_deceased: bool = False

    def hook(self, name: str) -> Callable | None:
        """The program's `name` hook as a callable, or None when it declares none."""
        path = getattr(self, name)
        if not path:
            return None
        module, _, attr = path.partition(":")
        return getattr(importlib.import_module(module), attr)

    @property
    def citizen_started(self) -> bool:
        """Whether the citizen may start an application herself (the program declares an `apply` hook)."""
        return bool(self.apply)

    def trips(self) -> int:
        """Trips to an office the process asks of the citizen (the 'trip level' as a number)."""
        return sum(1 for s in self.steps if s.citizen_trip)


@dataclass(frozen=True)
class RegistryFacts:
    """What the population registry says of one resident, as of its source date (a program's Facts add the
    program's own facts and the `source`)."""

    birth_date: date
    death_date: date | None
    hukou_local: bool
    source_date: date


# The closing lines of the guide of a program handled wholly online.
ONLINE_GUIDE = {"trip_level": "零跑动", "place": "线上办理", "phone": "12345"}


# The coded reasons of a one-step staff review (flows.casework.review), shared by the programs that have one.
STAFF_REVIEW_REASONS = {
    "rule_not_met": "经核对,不符合补贴条件",
    "duplicate_benefit": "已享受同类补贴,不能重复享受",
    "data_inconsistent": "部门共享数据存在矛盾,需更正后重新办理",
    "other": "其他原因(详见说明)",
}
STAFF_REVIEW_STEP = {"reviewing": {"path": "review", "reasons": STAFF_REVIEW_REASONS}}


def zero_trip_program(code: str, name: str, short_name: str, parameters: dict, guide: dict, decide: Callable,
                      steps: tuple[Step, ...], *, needs_review: bool, time_limit_days: int,
                      public_notice: bool = False, parameter_specs: dict | None = None,
                      amount_for: Callable | None = None, guide_amounts: Callable | None = None,
                      household_facts: Callable | None = None, **hooks) -> Program:
    """A program the citizen never travels for, starting on its parameters' start date."""
    return Program(code=code, name=name, short_name=short_name, start_date=parameters["start_date"],
                   needs_review=needs_review, trip_level="zero_trip", time_limit_days=time_limit_days,
                   guide=guide, parameters=parameters, decide=decide, steps=steps, public_notice=public_notice,
                   parameter_specs=parameter_specs or {}, amount_for=amount_for, guide_amounts=guide_amounts,
                   household_facts=household_facts, **hooks)


def hukou_and_alive(facts: RegistryFacts, as_of: date, source_text: str) -> tuple[Condition, Condition]:
    """The population registry's two conditions: local hukou, and alive on `as_of`."""
    src, sdate = facts.source, facts.source_date.isoformat()
    alive = facts.death_date is None or facts.death_date > as_of
    return (
        Condition("hukou_local", facts.hukou_local, str(facts.hukou_local).lower(), src, sdate,
                  f"您的户籍在本市({source_text})" if facts.hukou_local else f"您的户籍已迁出本市({source_text})"),
        Condition("alive", alive, "true" if alive else "false", src, sdate,
                  f"人口库登记为健在({source_text})" if alive else f"人口库登记已去世({source_text})"),
    )
