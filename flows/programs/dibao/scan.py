"""Proactive 低保 proposals when the imported economic records suggest a household is eligible (set-based SQL).

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

from datetime import date, timedelta

from app.sql import Dialect
from flows.dates import month_of
from flows.imports.reference import HEAD
from flows.lifecycle.jobs import IN_PROGRESS
from flows.programs import dibao
from flows.scans.runs import ScanResult
from flows.scans.single_pass import propose_in_one_pass

CODE = dibao.CODE
QUIET_DAYS = 180


def _yuan_sql(d: Dialect, fen_expr: str) -> str:
    if d.pg:
        return (f"(CAST(({fen_expr}) / 100 AS TEXT) || '.' || lpad(CAST(({fen_expr}) % 100 AS TEXT), 2, '0'))")
    return f"printf('%d.%02d', ({fen_expr}) / 100, ({fen_expr}) % 100)"


def _quoted(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _insert_sql(d: Dialect, as_of: date) -> tuple[str, dict]:
    on = max(as_of, dibao.PARAMETERS["start_date"])
    standard = dibao.PARAMETERS["standard"].at(on)
    months = dibao.window(as_of)
    deposit_limit = standard * dibao.PARAMETERS["deposit_months"].at(on)
    incomes = _quoted(dibao.INCOME_KINDS)
    household = (
        "SELECT r.household_id AS hh, COUNT(DISTINCT r.id) AS n, COUNT(e.id) AS records, "
        f"COALESCE(SUM(CASE WHEN e.kind IN ({incomes}) AND e.period IN ({_quoted(months)}) "
        "THEN e.amount_fen ELSE 0 END), 0) AS income, "
        "COALESCE(SUM(CASE WHEN e.kind = 'deposit' THEN e.amount_fen ELSE 0 END), 0) AS deposits, "
        "COALESCE(SUM(CASE WHEN e.kind = 'real_estate' THEN e.quantity ELSE 0 END), 0) AS homes, "
        "COALESCE(SUM(CASE WHEN e.kind = 'vehicle' THEN e.quantity ELSE 0 END), 0) AS cars, "
        "COALESCE(SUM(CASE WHEN e.kind = 'company' THEN e.quantity ELSE 0 END), 0) AS firms "
        "FROM residents r LEFT JOIN economic_records e ON e.resident_id = r.id "
        "WHERE r.death_date IS NULL AND r.household_id IN (SELECT r2.household_id FROM economic_records e2 "
        "JOIN residents r2 ON r2.id = e2.resident_id) GROUP BY r.household_id")
    per_capita = f"(s.income / {len(months)} / s.n)"

    def reg(value: str) -> str:
        return d.json_object({"value": value, "source": "h.source", "source_date": d.date_text("h.source_date")})

    def rule(value: str) -> str:
        return d.json_object({"value": value, "source": "'rule\\:dibao'", "source_date": ":as_of_text"})

    fields = {"name": reg("h.name"), "street_code": reg("h.street_code"), "household_size": reg("s.n"),
              "proposal_income_per_capita": rule(_yuan_sql(d, per_capita)),
              "proposal_standard": rule(f"'{standard // 100}.{standard % 100:02d}'")}
    prefix, suffix = d.insert_ignore("applications")
    sql = (
        f"{prefix} (id, program, resident_id, period, origin, state, as_of, prefill, trace, scan_run_id, "
        "created_at, updated_at) "
        f"SELECT {d.new_id()}, '{CODE}', h.id, :period, 'proactive', 'proposed', :as_of, {d.json_object(fields)}, "
        f"{d.json_text('[]')}, :run_id, :now, :now "
        f"FROM ({household}) s JOIN residents h ON h.household_id = s.hh "
        f"WHERE h.relation_to_head = '{HEAD}' AND h.hukou_local AND h.death_date IS NULL AND s.records > 0 "
        f"AND s.income < {standard * len(months)} * s.n "
        f"AND s.deposits < {deposit_limit + 1} * s.n "
        f"AND s.homes <= {dibao.PARAMETERS['max_real_estate'].at(on)} "
        f"AND s.cars <= {dibao.PARAMETERS['max_vehicles'].at(on)} "
        f"AND s.firms <= {dibao.PARAMETERS['max_companies'].at(on)} "
        "AND NOT EXISTS (SELECT 1 FROM residents rd JOIN benefits bd ON bd.resident_id = rd.id "
        f"WHERE rd.household_id = h.household_id AND bd.program = '{CODE}' AND bd.state IN ('active', 'suspended')) "
        f"AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.program = '{CODE}' AND a.resident_id = h.id "
        f"AND (a.state IN ({_quoted(IN_PROGRESS)}) OR a.as_of > :since)){suffix}")
    return sql, {"period": month_of(as_of), "since": as_of - timedelta(days=QUIET_DAYS)}


def scan_dibao(cfg, as_of: date, engine=None) -> ScanResult:
    """Propose 低保 to every household the economic records say is eligible on `as_of` (idempotent per date)."""
    return propose_in_one_pass(cfg, CODE, as_of, engine, lambda d: _insert_sql(d, as_of))


def scan(cfg, code: str, as_of: date, engine=None, progress=None) -> ScanResult:
    """The program's scan hook (flows.scans.run_scan)."""
    return scan_dibao(cfg, as_of, engine)
