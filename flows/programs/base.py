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
    # A one-off payment (一次性发放) on approval besides (or instead of) the monthly amount, paid to the subject
    # by the next roll (flows.one_offs).
    one_off_fen: int = 0

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
class FormField:
    """One field of a citizen-started application form (`/m/` renders it from GET /api/v1/programs/{code};
    POST /api/v1/programs/{code}/applications takes it by `name`). kind "amount": yuan like 300.00 (0-9 or
    full-width digits), given to the program in fen; kind "text": plain text up to `max_length` characters."""

    name: str
    kind: str  # amount | text
    label: str
    max_length: int = 500
    rows: int = 0  # a text field on more than one line
    default: str = ""

    def as_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "label": self.label, "max_length": self.max_length,
                "rows": self.rows, "default": self.default}


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
    # Such a program's decide also takes `amounts_on` (the date whose standard and limits apply to those facts),
    # so that a case is re-priced on the facts of its last decision at the amounts in force (flows.parameters).
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
    # withdraw_trigger(session, approval, staff) -> Approval: withdraw such a grant, pending or approved before
    #   its roll closed (its approval's kind is "<code>_trigger").
    # scan(cfg, code, as_of, engine=None, progress=None) -> flows.scans.runs.ScanResult: the proactive scan
    #   (主动发现), set-based and idempotent per as-of date; the scheduler runs every program's scan daily and
    #   `zerotrip scan <cli_name>` runs one by hand.
    # sweep(session, today) -> counts: the program's daily pass over its own open cases (notice periods that
    #   ended, steps past their limit), after the lifecycle jobs.
    scan: str = ""
    sweep: str = ""
    # candidates(as_of) -> a SQLAlchemy Core Select with a `resident_id` column (the subject) and, where the
    # applicant is someone else, an `applicant_id` column: who should be proposed the program on `as_of`, built
    # from the same parameters as the rule (a hook: it lives beside the program's casework, the rule stays pure).
    # With `scan="flows.scans.declared:scan"` the generic runner proposes them (set-based); the applicants get
    # the role `applicant_role` (flows.applicants.ROLE_TEXT).
    candidates: str = ""
    applicant_role: str = "household_adult"
    daily: str = ""
    confirm: str = ""
    reopen: str = ""
    facts: str = ""
    trigger: str = ""
    withdraw_trigger: str = ""
    # An application whose subject is a deceased person (the applicant is someone else): a death does not expire
    # it (flows.lifecycle.jobs).
    about_the_deceased: bool = False
    # A benefit that stands on a valid disability certificate (parameters `max_grade`, `amounts` by grade):
    # proposed from the certificate import by the program's scan, stopped when the last one expires, proposed
    # again as a new period when a renewed one is issued (flows.lifecycle.jobs).
    certificate_based: bool = False
    # Only while a member of the resident's household receives this other program's benefit (stopped when none
    # does any more).
    requires_household_benefit: str = ""
    # That fact as its rule names it: (condition code, source code), for the proposal's pre-filled field and the
    # trace of a stop when no member receives it any more.
    household_fact: tuple[str, str] = ()
    # Its own wording in messages and in the resident's trace (notifications.templates, the application views):
    # tier code → words (e.g. "90-99" → 90至99岁); a stop reason of its own → (WeChat 停发原因 ≤ 20 characters, the
    # cause in a sentence, a tip); a benefit change's reason or kind → a sentence with {value} {month} {src}
    # {turned} {tier} {amount}.
    tier_texts: dict = field(default_factory=dict)
    stop_texts: dict = field(default_factory=dict)
    change_texts: dict = field(default_factory=dict)
    # A benefit suspended on moving out resumes when the hukou moves back (otherwise it stays suspended).
    resume_on_move_in: bool = False
    # The income-change event (new income data of a member of a household with an active benefit, from the
    # economic-records import or the exchange push; flows.lifecycle.income): "recheck" re-runs the program's rule
    # (household_facts + decide) on the household's facts as of the new data; a changed amount or an end becomes a
    # staff re-check task, applied from the next month once a second person approves (减发/增发/停发). Empty: new
    # income changes nothing. Its words: change_texts[INCOME_CHANGE] (re-priced), change_texts and stop_texts
    # [INCOME_CHANGE_STOP] (stopped).
    income_change: str = ""
    # Names of the data sources its facts come from (source code → name shown beside each pre-filled field) and
    # labels of its own pre-filled fields.
    sources: dict = field(default_factory=dict)
    field_labels: dict = field(default_factory=dict)
    # Its pre-filled fields' codes in words (field → {code: words}), e.g. a disability category "4" → 肢体残疾.
    field_values: dict = field(default_factory=dict)
    # Its name in messages (e.g. 城乡低保 for 城乡最低生活保障); default: `name`.
    message_name_text: str = ""
    # Its own casework module (e.g. "flows.programs.<code>.cases") for the staff steps of a process beyond one
    # review: record_home_visit, street_review, county_decide, extend (and extendable: may it now), waiting_for,
    # object_to, decide_objection.
    casework: str = ""
    # The staff step whose working-day limit runs while an application waits in a state (state → step code);
    # drives the staff queues and deadlines (flows.staff_cases). A one-review program: STAFF_REVIEW_WAITING; a review
    # then an approval: STAFF_REVIEW_AND_APPROVAL_WAITING (with step_actions=STAFF_REVIEW_AND_APPROVAL).
    waiting_steps: dict = field(default_factory=dict)
    # What the two investigators check at a home visit (入户调查), item by item.
    home_visit_checklist: tuple[str, ...] = ()
    # A citizen-started application (the citizen asks; no proposal): apply(session, applicant, actor, values,
    # today=None) -> Application, with `values` the form's fields (amounts in fen); the form; its texts
    # (title, lead, button, done); and the program's own older route for it, `POST /api/v1/<api_alias>/
    # applications`, whose body names (old → form field) are `api_alias_fields`.
    apply: str = ""
    apply_form: tuple[FormField, ...] = ()
    apply_texts: dict = field(default_factory=dict)
    api_alias: str = ""
    api_alias_fields: dict = field(default_factory=dict)
    # Where it stands in lists and in the daily run (lower first: a scan may read what an earlier one made).
    order: int = 100
    # The module declaring its answers to other departments (flows.exchange.datasets: declare_answer, declare_gate).
    exchange: str = ""
    # Its part of the simulated year (`zerotrip simulate`, flows.simulation.city_year.simulated): a module path.
    simulation: str = ""
    # The name of its commands (`zerotrip scan <cli_name>`); default: the code with dashes.
    cli_name: str = ""

    @property
    def reviewed(self) -> bool:
        """Decided by the rule plus one staff review (a declared "review" step, no casework of its own)."""
        return not self.casework and any(s.code == "review" for s in self.steps)

    @property
    def approval_step(self) -> Step | None:
        """A reviewed program's declared "approve" step (review, then approval by a different person), or None:
        the review is then the decision."""
        return next((s for s in self.steps if s.code == "approve"), None) if self.reviewed else None

    def casework_module(self):
        """The program's own casework module, or None."""
        return importlib.import_module(self.casework) if self.casework else None

    @property
    def message_name(self) -> str:
        return self.message_name_text or self.name

    @property
    def command_name(self) -> str:
        return self.cli_name or self.code.replace("_", "-")

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


@dataclass(frozen=True)
class PersonFacts(RegistryFacts):
    """The registry's facts of one resident with their source: all a program that reads nothing else needs."""

    source: str = "population_registry"


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
STAFF_REVIEW_WAITING = {"reviewing": "review"}
# A review, then an approval by a different person (declared steps "review" and "approve"; flows.casework.approve):
# the reviewed case waits in the approvers' pool in state `approving`.
STAFF_REVIEW_AND_APPROVAL = {**STAFF_REVIEW_STEP, "approving": {"path": "approve", "reasons": STAFF_REVIEW_REASONS}}
STAFF_REVIEW_AND_APPROVAL_WAITING = {**STAFF_REVIEW_WAITING, "approving": "approve"}


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
