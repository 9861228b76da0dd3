"""SQL fragments shared by the lifecycle jobs and the scans (on top of flows.sql.Dialect)."""

from __future__ import annotations

from sqlalchemy import Boolean, Date, DateTime, Integer, String, bindparam, text

from flows.sql import Dialect

TYPES = {"as_of": Date, "now": DateTime, "cut": Date, "d3": Date, "d10": Date, "d_task": Date, "due": DateTime,
         "start_idx": Integer, "fen": Integer, "label": String, "program": String, "max_grade": Integer,
         "as_of_text": String, "run_id": String, "true": Boolean, "since": Date, "period": String,
         # the elderly-allowance scan
         "cut80": Date, "cut0": Date, "cut1": Date, "cut2": Date, "prev_cut": Date, "changed_since": DateTime,
         "lo": Integer, "hi": Integer, "as_of_year": Integer, "as_of_md": Integer, "program_start_idx": Integer}


def stmt(sql: str, params: dict):
    """A text() statement with typed binds for the parameters it uses."""
    return text(sql).bindparams(*[bindparam(k, type_=TYPES[k]) for k in params if k in TYPES and f":{k}" in sql])


def json_array(d: Dialect, *items: str) -> str:
    return ("json_build_array(" if d.pg else "json_array(") + ", ".join(items) + ")"


def month_of(d: Dialect, date_expr: str) -> str:
    """'YYYY-MM' of a date expression."""
    return f"substr({d.date_text(date_expr)}, 1, 7)" if d.pg else f"substr({date_expr}, 1, 7)"


def next_month_of(d: Dialect, date_expr: str) -> str:
    """'YYYY-MM' of the month after a date expression."""
    y, m, _ = d.ymd(date_expr)
    return d.month_text(f"{y} * 12 + {m}")


def nth_birthday_next_month(d: Dialect, n: int, col: str = "r.birth_date") -> str:
    """Month index of the month after the n-th birthday (29 February → 1 March in common years)."""
    y, m, dd = d.ymd(col)
    bump = f"CASE WHEN {m} = 2 AND {dd} = 29 AND NOT {d.leap(f'{y} + {n}')} THEN 1 ELSE 0 END"
    return f"(({y} + {n}) * 12 + {m} + {bump})"


def at_least(idx_expr: str, floor_param: str = ":start_idx") -> str:
    return f"CASE WHEN {idx_expr} < {floor_param} THEN {floor_param} ELSE {idx_expr} END"
