"""Proactive 低保 proposals when the imported economic records suggest a household is eligible (set-based
SQLAlchemy Core, the rule's parameters as bound values).

A household is proposed, to its head (户主), when on the as-of date: the head is alive with local hukou; the
partners' records say something about the household (at least one economic record of a living member); the
income of the living members over the rule's window (the complete months before) is below the standard per
person; deposits, homes, vehicles and companies are within the limits (the same arithmetic as
flows.programs.dibao.decide, with nothing declared); no member receives 低保; and the head has no 低保 case in
progress nor one started in the last `QUIET_DAYS` days (a rejection or a "no" is not re-proposed at once).

The proposal and its outbox row (`proposal_ready`) are written in one transaction; a run per as-of date is
recorded and never repeated, and (program, resident, month) is unique, so a re-run proposes nobody twice. The
head confirms with one tap and declares only what the state cannot know; the economic check then runs on the
data of that day (flows.programs.dibao.cases.confirm_proposal).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Integer,
    String,
    and_,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
)

from app.models import Application, Benefit, EconomicRecord, Resident
from app.sql import (
    Dialect,
    alias_of,
    date_text_of,
    exists_where,
    insert_ignore_into,
    json_object_of,
    yuan_text_of,
)
from flows.dates import month_of
from flows.imports.reference import HEAD
from flows.lifecycle.jobs import IN_PROGRESS
from flows.programs import dibao
from flows.scans.runs import ScanResult
from flows.scans.single_pass import PROPOSAL_COLUMNS, propose_in_one_pass

CODE = dibao.CODE
QUIET_DAYS = 180


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _households(months: tuple[str, ...]):
    """Per household with an economic record of a member: its living members, their records, their income over
    the window and their deposits, homes, vehicles and companies."""
    r, e = alias_of(Resident.__table__, "r"), alias_of(EconomicRecord.__table__, "e")
    r2, e2 = alias_of(Resident.__table__, "r2"), alias_of(EconomicRecord.__table__, "e2")

    def total(condition, col):
        return func.coalesce(func.sum(case((condition, col), else_=literal(0, Integer))), literal(0, Integer))

    recorded = select(r2.c.household_id).select_from(e2.join(r2, r2.c.id == e2.c.resident_id))
    return (select(r.c.household_id.label("hh"), func.count(r.c.id.distinct()).label("n"),
                   func.count(e.c.id).label("records"),
                   total(and_(e.c.kind.in_(dibao.INCOME_KINDS), e.c.period.in_(months)), e.c.amount_fen)
                   .label("income"),
                   total(e.c.kind == "deposit", e.c.amount_fen).label("deposits"),
                   total(e.c.kind == "real_estate", e.c.quantity).label("homes"),
                   total(e.c.kind == "vehicle", e.c.quantity).label("cars"),
                   total(e.c.kind == "company", e.c.quantity).label("firms"))
            .select_from(r.outerjoin(e, e.c.resident_id == r.c.id))
            .where(r.c.death_date.is_(None), r.c.household_id.in_(recorded))
            .group_by(r.c.household_id).subquery("s"))


def _insert(d: Dialect, as_of: date, run_id: str, now: datetime):
    """The INSERT … SELECT of the proposals (SQLAlchemy Core; the rule's limits as bound values)."""
    on = max(as_of, dibao.PARAMETERS["start_date"])
    standard = dibao.PARAMETERS["standard"].at(on)
    months = dibao.window(as_of)
    deposit_limit = standard * dibao.PARAMETERS["deposit_months"].at(on)
    s, h = _households(months), alias_of(Resident.__table__, "h")
    rd, bd = alias_of(Resident.__table__, "rd"), alias_of(Benefit.__table__, "bd")
    a = alias_of(Application.__table__, "a")
    as_of_text = literal(as_of.isoformat(), String)

    def reg(value):
        return json_object_of(d, {"value": value, "source": h.c.source,
                                  "source_date": date_text_of(d, h.c.source_date)})

    def rule(value):
        return json_object_of(d, {"value": value, "source": literal(f"rule:{CODE}", String),
                                  "source_date": as_of_text})

    per_capita = s.c.income // len(months) // s.c.n
    prefill = json_object_of(d, {
        "name": reg(h.c.name), "street_code": reg(h.c.street_code), "household_size": reg(s.c.n),
        "proposal_income_per_capita": rule(yuan_text_of(d, per_capita)),
        "proposal_standard": rule(literal(_yuan(standard), String))})
    in_payment = exists_where(rd.c.household_id == h.c.household_id, bd.c.program == CODE,
                              bd.c.state.in_(("active", "suspended")), from_=rd.join(bd, bd.c.resident_id == rd.c.id))
    since = literal(as_of - timedelta(days=QUIET_DAYS), Date)
    recent = exists_where(a.c.program == CODE, a.c.resident_id == h.c.id,
                          or_(a.c.state.in_(IN_PROGRESS), a.c.as_of > since))
    rows = (select(literal_column(d.new_id()), literal(CODE, String), h.c.id, literal(month_of(as_of), String),
                   literal("proactive", String), literal("proposed", String), literal(as_of, Date), prefill,
                   literal_column(d.json_text("[]")), literal(run_id, String), literal(now, DateTime),
                   literal(now, DateTime))
            .select_from(s.join(h, h.c.household_id == s.c.hh))
            .where(h.c.relation_to_head == HEAD, h.c.hukou_local, h.c.death_date.is_(None), s.c.records > 0,
                   s.c.income < literal(standard * len(months), BigInteger) * s.c.n,
                   s.c.deposits < literal(deposit_limit + 1, BigInteger) * s.c.n,
                   s.c.homes <= dibao.PARAMETERS["max_real_estate"].at(on),
                   s.c.cars <= dibao.PARAMETERS["max_vehicles"].at(on),
                   s.c.firms <= dibao.PARAMETERS["max_companies"].at(on),
                   ~in_payment, ~recent))
    return insert_ignore_into(d, Application.__table__).from_select(list(PROPOSAL_COLUMNS), rows)


def scan_dibao(cfg, as_of: date, engine=None) -> ScanResult:
    """Propose 低保 to every household the economic records say is eligible on `as_of` (idempotent per date)."""
    return propose_in_one_pass(cfg, CODE, as_of, engine, lambda d, run_id, now: _insert(d, as_of, run_id, now))


def scan(cfg, code: str, as_of: date, engine=None, progress=None) -> ScanResult:
    """The program's scan hook (flows.scans.run_scan)."""
    return scan_dibao(cfg, as_of, engine)
