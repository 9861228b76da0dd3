"""The set-based scans written in SQLAlchemy Core (issue 10 item 1): no SQL assembled from Python values in
their modules, and their statements compile for both databases (PostgreSQL checked without a server)."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from datetime import date, datetime

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import psycopg

from app.sql import Dialect
from flows.programs import PROGRAMS

CORE_MODULES = ("flows.programs.dibao.scan", "flows.programs.disability_care_subsidy.scan",
                "flows.programs.elderly_allowance.scan", "flows.scans.single_pass", "flows.scans.declared",
                # the daily lifecycle jobs and the elderly allowance's tier raise
                "flows.lifecycle.jobs", "flows.programs.elderly_allowance.lifecycle")
SQL_WORD = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|FROM|WHERE|EXISTS|JOIN|CASE|SUM|COALESCE)\b")


def sql_in_strings(source: str) -> list[str]:
    """The string literals and f-strings of `source` that spell SQL (upper-case keywords), and any `%` formatting
    or str.format of a string literal."""
    found, tree = [], ast.parse(source)
    in_fstrings = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    for node in ast.walk(tree):
        if id(node) in in_fstrings:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_WORD.search(node.value):
            found.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if SQL_WORD.search(text):
                found.append(ast.unparse(node))
        elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant)
              and isinstance(node.left.value, str)):
            found.append(ast.unparse(node))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
              and isinstance(node.func.value, ast.Constant)):
            found.append(ast.unparse(node))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("text", "stmt"):
            found.append(ast.unparse(node))  # a text() statement (sqlalchemy.text, app.sql.stmt)
    return found


def _code_only(source: str) -> str:
    """`source` without its docstrings (prose may say SELECT)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body[0] = ast.Pass()
    return ast.unparse(tree)


@pytest.mark.parametrize("name", CORE_MODULES)
def test_the_core_scans_build_no_sql_from_strings(name):
    source = _code_only(inspect.getsource(importlib.import_module(name)))
    assert sql_in_strings(source) == []


def test_the_check_sees_sql_built_in_a_string():
    source = ('x = f"SELECT 1 FROM t WHERE a = {v}"\ny = "AND b IN (%s)" % z\nw = "c IN ({})".format(v)\n'
              'q = text(sql)\nok = "application:"\n')
    assert len(sql_in_strings(source)) == 4


@pytest.mark.parametrize("dialect", [sqlite.dialect(), psycopg.dialect()], ids=["sqlite", "postgresql"])
def test_the_scans_compile_for_both_databases(dialect):
    from flows.programs.dibao.scan import _insert as dibao_insert
    from flows.programs.disability_care_subsidy.scan import _insert as certificate_insert
    from flows.programs.elderly_allowance.scan import _statements as elderly_statements
    from flows.scans.single_pass import outbox_insert

    d, now = Dialect(dialect.name), datetime(2026, 11, 25, 1, 0)
    statements = [dibao_insert(d, date(2026, 11, 25), "run", now), outbox_insert(d, "run", now)]
    statements += [certificate_insert(d, p, date(2026, 11, 25), "run", now) for p in PROGRAMS.values()
                   if p.scan == "flows.programs.disability_care_subsidy.scan:scan"]
    for scope in ("range", "daily", None):  # a backfill batch, the next-day scan, everyone
        statements += elderly_statements(d, date(2026, 11, 25), scope)
    assert len(statements) >= 9
    for statement in statements:
        sql = str(statement.compile(dialect=dialect))
        assert ("ON CONFLICT DO NOTHING" in sql) == (dialect.name == "postgresql")
        assert ("INSERT OR IGNORE" in sql) == (dialect.name == "sqlite")
        assert "rule:" not in sql and "'2026" not in sql  # values are bound, not pasted in


class _Recorder:
    """Stands in for a connection: records each statement compiled for the dialect, answers nothing."""

    def __init__(self, dialect):
        self.dialect, self.sql = dialect, []

    def execute(self, statement, *args, **kwargs):
        self.sql.append(str(statement.compile(dialect=self.dialect)))
        return type("Nothing", (), {"rowcount": 0, "scalars": lambda self: iter(()), "__iter__": lambda self: iter(())})()


@pytest.mark.parametrize("dialect", [sqlite.dialect(), psycopg.dialect()], ids=["sqlite", "postgresql"])
def test_the_lifecycle_jobs_compile_for_both_databases(dialect, monkeypatch):
    from flows.lifecycle import jobs
    from flows.programs.elderly_allowance.lifecycle import raise_tiers

    monkeypatch.setattr(jobs, "notify_after_death", lambda *a: {})  # reads rows: not a statement of the jobs
    conn, d = _Recorder(dialect), Dialect(dialect.name)
    for job in (jobs.stop_on_death, jobs.suspend_on_move_out, jobs.resume_on_move_in, jobs.stop_on_certificate_expiry,
                jobs.stop_without_household_benefit, jobs.remind_and_escalate, raise_tiers):
        job(conn, d, date(2026, 11, 25))
    assert len(conn.sql) >= 20
    for sql in conn.sql:
        assert "'2026" not in sql  # values are bound
        assert not re.search(r"FROM \w+ AS \w+, \w+", sql), sql  # every subquery correlated, no cross join
        if sql.startswith("INSERT"):
            assert ("ON CONFLICT DO NOTHING" in sql) == (dialect.name == "postgresql")
