"""Programs (事项): one module (or package) each under flows/programs/, with dated parameters, a pure
eligibility rule, its process and its guide, declared as a `PROGRAM` (flows.programs.base.Program).

The registry discovers them: every module or package here except `base` that defines `PROGRAM` is registered,
in the order of its `order` (then its code). Nothing else lists programs; generic code iterates `PROGRAMS`.
A program defined elsewhere (a test's fictional one) joins with `register(program)` and leaves with
`unregister(code)`.
"""

from __future__ import annotations

import importlib
import pkgutil

from flows.programs.base import Program

PROGRAMS: dict[str, Program] = {}
# Pairs that may not be paid to the same person for the same month (择高申领), from Program.exclusive_with; the
# payroll's anomaly report checks them.
EXCLUSIVE_PAIRS: tuple[tuple[str, str], ...] = ()


def _discover() -> list[Program]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name == "base":
            continue
        program = getattr(importlib.import_module(f"{__name__}.{info.name}"), "PROGRAM", None)
        if isinstance(program, Program):
            found.append(program)
    return sorted(found, key=lambda p: (p.order, p.code))


def _index(programs: list[Program]) -> None:
    global EXCLUSIVE_PAIRS
    ordered = sorted(programs, key=lambda p: (p.order, p.code))
    PROGRAMS.clear()
    PROGRAMS.update({p.code: p for p in ordered})
    EXCLUSIVE_PAIRS = tuple((p.code, other) for p in ordered for other in p.exclusive_with)


def register(program: Program) -> Program:
    """Add (or replace) a program defined outside this package, e.g. a test's own."""
    _index([*(p for p in PROGRAMS.values() if p.code != program.code), program])
    return program


def unregister(code: str) -> None:
    _index([p for p in PROGRAMS.values() if p.code != code])


def get(code: str) -> Program | None:
    return PROGRAMS.get(code)


_index(_discover())
