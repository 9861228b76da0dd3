"""Program parameters as data with dates of effect (OpenFisca style): a change never alters earlier dates."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Dated:
    """A value that changes over time: [(effective_from, value), …] in any order."""

    changes: tuple[tuple[date, Any], ...]

    @classmethod
    def of(cls, *changes: tuple[str, Any]) -> Dated:
        return cls(tuple(sorted((date.fromisoformat(d), v) for d, v in changes)))

    def at(self, when: date) -> Any:
        starts = [d for d, _ in self.changes]
        i = bisect_right(starts, when)
        if i == 0:
            raise LookupError(f"no value in force on {when.isoformat()}")
        return self.changes[i - 1][1]

    def first_date(self) -> date:
        return self.changes[0][0]
