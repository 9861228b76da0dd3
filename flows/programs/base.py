"""What every program provides: identity, guide, parameters, rule and process facts."""

from __future__ import annotations

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

    def trips(self) -> int:
        """Trips to an office the process asks of the citizen (the 'trip level' as a number)."""
        return sum(1 for s in self.steps if s.citizen_trip)
