"""Proactive proposals of a program that stands on a disability certificate (Program.certificate_based: this
one and the living subsidy, which reads its rule from this package) from the 残联 certificate import
(set-based, SQLAlchemy Core, the parameters as bound values): a certificate valid on the as-of date with a grade
within the program's `max_grade`; for a program with `requires_household_benefit` (the 低保), a household member
receiving that program's benefit too (pre-filled as its `household_fact`).

Residents alive with local hukou and without an application or benefit for the program get a `proposed`
application pre-filled from the certificate (each field with its source and date) and an outbox row, in the
same transaction. A holder whose every earlier application ended in a benefit stopped before the certificate's
issue month (renewed after expiry) is proposed again: a new benefit period (period = that issue month). The
certificate table is small (a few per cent of residents), so every run looks at all of it; a run per
(program, as-of) is recorded and never repeated.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    String,
    Text,
    case,
    cast,
    literal,
    literal_column,
    or_,
    select,
    true,
)

from app.models import Application, Benefit, DisabilityCertificate, Resident
from app.sql import (
    Dialect,
    alias_of,
    at_least_of,
    date_text_of,
    exists_where,
    insert_ignore_into,
    json_object_of,
    month_text_of,
    ymd_of,
)
from flows.programs import PROGRAMS
from flows.scans.runs import ScanResult
from flows.scans.single_pass import PROPOSAL_COLUMNS, propose_in_one_pass


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def in_household_benefit(household_id, program_code: str):
    """Core EXISTS: a member of the household `household_id` (a column) receives `program_code`'s benefit now.
    Household first (index on household_id), then the member's benefit (unique index on program, resident)."""
    rd, bd = alias_of(Resident.__table__, "rd"), alias_of(Benefit.__table__, "bd")
    member_paid = exists_where(bd.c.program == program_code, bd.c.resident_id == rd.c.id, bd.c.state == "active")
    return exists_where(rd.c.household_id == household_id, member_paid)


def _best_certificate(c2, resident_id, as_of: date, max_grade: int):
    """The certificate used: valid on the as-of date, the most severe grade, then the latest expiry."""
    return (select(c2.c.id).where(c2.c.resident_id == resident_id, c2.c.issue_date <= literal(as_of, Date),
                                  c2.c.expiry_date >= literal(as_of, Date), c2.c.grade <= max_grade)
            .order_by(c2.c.grade, c2.c.expiry_date.desc(), c2.c.id).limit(1).scalar_subquery())


def _insert(d: Dialect, program, as_of: date, run_id: str, now: datetime):
    """The INSERT … SELECT of the program's proposals on `as_of`."""
    params = program.parameters
    start = params["start_date"]
    on = max(as_of, start)
    max_grade, amounts = params["max_grade"].at(on), params["amounts"].at(on)
    t = DisabilityCertificate.__table__
    c, c2, r = alias_of(t, "c"), alias_of(t, "c2"), alias_of(Resident.__table__, "r")
    ap, a = alias_of(Application.__table__, "ap"), alias_of(Application.__table__, "a")
    b, bs = alias_of(Benefit.__table__, "b"), alias_of(Benefit.__table__, "bs")
    day, as_of_text = literal(as_of, Date), literal(as_of.isoformat(), String)

    def reg(value):
        return json_object_of(d, {"value": value, "source": r.c.source,
                                  "source_date": date_text_of(d, r.c.source_date)})

    def fed(value):
        return json_object_of(d, {"value": value, "source": c.c.source,
                                  "source_date": date_text_of(d, c.c.source_date)})

    def rule(value):
        return json_object_of(d, {"value": value, "source": literal(f"rule:{program.code}", String),
                                  "source_date": as_of_text})

    json_true = literal_column(d.json_text("true"))
    y, m, _ = ymd_of(d, c.c.issue_date)
    start_idx = literal(start.year * 12 + start.month - 1, Integer)
    issue_month = month_text_of(d, y * 12 + m - 1)
    fields = {
        "name": reg(r.c.name), "sex": reg(r.c.sex), "birth_date": reg(date_text_of(d, r.c.birth_date)),
        "district_code": reg(r.c.district_code), "street_code": reg(r.c.street_code),
        "community_code": reg(r.c.community_code), "hukou_local": reg(json_true),
        "certificate": fed(c.c.cert_mask), "disability_category": fed(c.c.category),
        "disability_grade": fed(c.c.grade), "certificate_issue_date": fed(date_text_of(d, c.c.issue_date)),
        "certificate_expiry_date": fed(date_text_of(d, c.c.expiry_date)),
        "tier": rule(literal("grade", String) + cast(c.c.grade, Text)),
        "monthly_amount": rule(case({g: literal(_yuan(f), String) for g, f in sorted(amounts.items())},
                                    value=c.c.grade)),
        "start_month": rule(month_text_of(d, at_least_of(y * 12 + m, start_idx))),
    }
    criteria = []
    if program.requires_household_benefit:
        field, source = program.household_fact  # e.g. the household's 低保, from the 低保 registry
        fields[field] = json_object_of(d, {"value": json_true, "source": literal(source, String),
                                           "source_date": as_of_text})
        criteria.append(in_household_benefit(r.c.household_id, program.requires_household_benefit))
    applied = exists_where(ap.c.program == program.code, ap.c.resident_id == c.c.resident_id)
    period = case((applied, issue_month), else_=literal("once", String))
    # cheap tests first: most holders already have an application or a benefit. An earlier application whose
    # benefit stopped before this certificate's issue month does not count (a renewal after expiry).
    renewed = (select(true()).where(bs.c.resident_id == c.c.resident_id, bs.c.application_id == a.c.id,
                                    bs.c.state == "stopped", bs.c.end_month < issue_month)
               .correlate_except(bs).exists())
    applied_now = exists_where(a.c.program == program.code, a.c.resident_id == c.c.resident_id, ~renewed)
    paid = exists_where(b.c.program == program.code, b.c.resident_id == c.c.resident_id,
                        or_(b.c.state.in_(("active", "suspended")), b.c.end_month >= issue_month))
    rows = (select(literal_column(d.new_id()), literal(program.code, String), r.c.id, period,
                   literal("proactive", String), literal("proposed", String), day, json_object_of(d, fields),
                   literal_column(d.json_text("[]")), literal(run_id, String), literal(now, DateTime),
                   literal(now, DateTime))
            # certificates first (a few per cent of residents), then the resident by its key (SQLite's planner
            # takes this order with a plain JOIN; the old text SQL forced it with a CROSS JOIN)
            .select_from(c.join(r, r.c.id == c.c.resident_id))
            .where(c.c.issue_date <= day, c.c.expiry_date >= day, c.c.grade <= max_grade, ~applied_now, ~paid,
                   r.c.hukou_local, or_(r.c.death_date.is_(None), r.c.death_date > day), *criteria,
                   c.c.id == _best_certificate(c2, r.c.id, as_of, max_grade)))
    return insert_ignore_into(d, Application.__table__).from_select(list(PROPOSAL_COLUMNS), rows)


def scan(cfg, code: str, as_of: date, engine=None, progress=None) -> ScanResult:
    """Propose the certificate-based program `code` to everyone newly eligible on `as_of` (idempotent per date)."""
    program = PROGRAMS[code]
    return propose_in_one_pass(cfg, code, as_of, engine,
                               lambda d, run_id, now: _insert(d, program, as_of, run_id, now))


def scan_disability(cfg, program: str, as_of: date, engine=None) -> ScanResult:
    """The certificate scan of one program (the name tests and benchmarks use)."""
    return scan(cfg, program, as_of, engine)
