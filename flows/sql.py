"""The few SQL spellings that differ between SQLite and PostgreSQL, for set-based statements."""

from __future__ import annotations


class Dialect:
    def __init__(self, name: str):
        self.name = name
        self.pg = name == "postgresql"

    def new_id(self) -> str:
        return "replace(gen_random_uuid()::text, '-', '')" if self.pg else "lower(hex(randomblob(16)))"

    def json_object(self, pairs: dict[str, str]) -> str:
        fn = "json_build_object" if self.pg else "json_object"
        return f"{fn}(" + ", ".join(f"'{k}', {v}" for k, v in pairs.items()) + ")"

    def json_text(self, literal: str) -> str:
        return f"'{literal}'::json" if self.pg else f"json('{literal}')"

    def ymd(self, col: str) -> tuple[str, str, str]:
        if self.pg:
            return tuple(f"CAST(EXTRACT({p} FROM {col}) AS INTEGER)" for p in ("YEAR", "MONTH", "DAY"))
        return (f"CAST(substr({col}, 1, 4) AS INTEGER)", f"CAST(substr({col}, 6, 2) AS INTEGER)",
                f"CAST(substr({col}, 9, 2) AS INTEGER)")

    def month_text(self, index_expr: str) -> str:
        """'YYYY-MM' from a month index (year*12 + month-1)."""
        if self.pg:
            return (f"(lpad(CAST(({index_expr}) / 12 AS TEXT), 4, '0') || '-' || "
                    f"lpad(CAST(({index_expr}) % 12 + 1 AS TEXT), 2, '0'))")
        return f"printf('%04d-%02d', ({index_expr}) / 12, ({index_expr}) % 12 + 1)"

    def date_text(self, col: str) -> str:
        return f"to_char({col}, 'YYYY-MM-DD')" if self.pg else col

    def insert_ignore(self, table: str) -> tuple[str, str]:
        """(prefix, suffix) around 'INSERT … SELECT …' that skips rows violating a unique key."""
        if self.pg:
            return f"INSERT INTO {table}", " ON CONFLICT DO NOTHING"
        return f"INSERT OR IGNORE INTO {table}", ""

    def leap(self, year_expr: str) -> str:
        return f"(({year_expr}) % 4 = 0 AND (({year_expr}) % 100 <> 0 OR ({year_expr}) % 400 = 0))"
