"""Proactive proposals of a program that stands on a disability certificate (Program.certificate_based) from
the 残联 certificate import (set-based SQL): a certificate valid on the as-of date with a grade within the
program's `max_grade`; for a program with `requires_household_benefit`, a household member receiving that
program's benefit too.

Residents alive with local hukou and without an application or benefit for the program get a `proposed`
application pre-filled from the certificate (each field with its source and date) and an outbox row, in the
same transaction. The certificate table is small (a few per cent of residents), so every run looks at all of
it; a run per (program, as-of) is recorded and never repeated.
"""

from __future__ import annotations

from datetime import date

from app.sql import Dialect, at_least
from flows.programs import PROGRAMS
from flows.scans.runs import ScanResult
from flows.scans.single_pass import propose_in_one_pass

# household first (index on household_id), then the member's benefit (unique index on program, resident); the
# program is the bind parameter :household_program
IN_HOUSEHOLD_BENEFIT = (
    "EXISTS (SELECT 1 FROM residents rd WHERE rd.household_id = r.household_id AND EXISTS ("
    "SELECT 1 FROM benefits bd WHERE bd.program = :household_program AND bd.resident_id = rd.id "
    "AND bd.state = 'active'))")


def certificate_programs() -> list:
    return [p for p in PROGRAMS.values() if p.certificate_based]


def _best_cert(max_grade: int) -> str:
    """The certificate used: valid on the as-of date, the most severe grade, then the latest expiry."""
    return ("c.id = (SELECT c2.id FROM disability_certificates c2 WHERE c2.resident_id = r.id "
            f"AND c2.issue_date <= :as_of AND c2.expiry_date >= :as_of AND c2.grade <= {int(max_grade)} "
            "ORDER BY c2.grade, c2.expiry_date DESC, c2.id LIMIT 1)")


def _insert_sql(d: Dialect, program, as_of: date) -> str:
    params = program.parameters
    on = max(as_of, params["start_date"])
    max_grade = params["max_grade"].at(on)
    amounts = params["amounts"].at(on)

    def reg(value: str) -> str:
        return d.json_object({"value": value, "source": "r.source", "source_date": d.date_text("r.source_date")})

    def fed(value: str) -> str:
        return d.json_object({"value": value, "source": "c.source", "source_date": d.date_text("c.source_date")})

    def rule(value: str) -> str:
        return d.json_object({"value": value, "source": f"'rule\\:{program.code}'", "source_date": ":as_of_text"})

    amount_case = "CASE c.grade " + " ".join(f"WHEN {g} THEN '{f // 100}.{f % 100:02d}'"
                                             for g, f in sorted(amounts.items())) + " END"
    y, m, _ = d.ymd("c.issue_date")
    fields = {
        "name": reg("r.name"), "sex": reg("r.sex"), "birth_date": reg(d.date_text("r.birth_date")),
        "district_code": reg("r.district_code"), "street_code": reg("r.street_code"),
        "community_code": reg("r.community_code"), "hukou_local": reg(d.json_text("true")),
        "certificate": fed("c.cert_mask"), "disability_category": fed("c.category"),
        "disability_grade": fed("c.grade"), "certificate_issue_date": fed(d.date_text("c.issue_date")),
        "certificate_expiry_date": fed(d.date_text("c.expiry_date")),
        "tier": rule("'grade' || c.grade"), "monthly_amount": rule(amount_case),
        "start_month": rule(d.month_text(at_least(f"({y} * 12 + {m})"))),
    }
    issue_month = d.month_text(f"({y} * 12 + {m} - 1)")
    period = (f"CASE WHEN EXISTS (SELECT 1 FROM applications ap WHERE ap.program = :program "
              f"AND ap.resident_id = c.resident_id) THEN {issue_month} ELSE 'once' END")
    extra = ""
    if program.requires_household_benefit:  # e.g. "<program>_household" from the "<program>_registry"
        benefit = program.requires_household_benefit
        fields[f"{benefit}_household"] = d.json_object({
            "value": d.json_text("true"), "source": f"'{benefit}_registry'", "source_date": ":as_of_text"})
        extra = f"AND {IN_HOUSEHOLD_BENEFIT} "
    prefix, suffix = d.insert_ignore("applications")
    return (
        f"{prefix} (id, program, resident_id, period, origin, state, as_of, prefill, trace, scan_run_id, "
        "created_at, updated_at) "
        f"SELECT {d.new_id()}, :program, r.id, {period}, 'proactive', 'proposed', :as_of, {d.json_object(fields)}, "
        f"{d.json_text('[]')}, :run_id, :now, :now "
        # certificates first (a few per cent of residents): SQLite keeps the written order of a CROSS JOIN
        f"FROM disability_certificates c {'JOIN' if d.pg else 'CROSS JOIN'} residents r "
        f"{'ON r.id = c.resident_id' if d.pg else ''} "
        f"WHERE {'' if d.pg else 'r.id = c.resident_id AND '}c.issue_date <= :as_of AND c.expiry_date >= :as_of "
        f"AND c.grade <= {int(max_grade)} "
        # cheap tests first: most holders already have an application or a benefit. A holder whose every earlier
        # application ended in a benefit stopped before this certificate's issue month (renewed after expiry)
        # is proposed again: a new benefit period (period = the certificate's issue month).
        f"AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.program = :program AND a.resident_id = c.resident_id "
        f"AND NOT EXISTS (SELECT 1 FROM benefits bs WHERE bs.resident_id = c.resident_id AND bs.application_id = a.id "
        "AND bs.state = 'stopped' "
        f"AND bs.end_month < {issue_month})) "
        "AND NOT EXISTS (SELECT 1 FROM benefits b WHERE b.program = :program AND b.resident_id = c.resident_id "
        f"AND (b.state IN ('active', 'suspended') OR b.end_month >= {issue_month})) "
        f"AND r.hukou_local AND (r.death_date IS NULL OR r.death_date > :as_of) {extra}"
        f"AND {_best_cert(max_grade)}{suffix}"
    )


def scan(cfg, code: str, as_of: date, engine=None, progress=None) -> ScanResult:
    """Propose the certificate-based program `code` to everyone newly eligible on `as_of` (idempotent per date)."""
    program = PROGRAMS[code]
    start = program.parameters["start_date"]
    extra = {"program": code, "start_idx": start.year * 12 + start.month - 1,
             "household_program": program.requires_household_benefit}
    return propose_in_one_pass(cfg, code, as_of, engine, lambda d: (_insert_sql(d, program, as_of), extra))


def scan_disability(cfg, program: str, as_of: date, engine=None) -> ScanResult:
    """The certificate scan of one program (the name tests and benchmarks use)."""
    return scan(cfg, program, as_of, engine)
