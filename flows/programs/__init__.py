"""Programs (事项): one module each, with dated parameters, a pure eligibility rule and a service guide."""

from __future__ import annotations

from flows.programs import elderly_allowance
from flows.programs.base import Program

PROGRAMS: dict[str, Program] = {p.code: p for p in (elderly_allowance.PROGRAM,)}


def get(code: str) -> Program | None:
    return PROGRAMS.get(code)
