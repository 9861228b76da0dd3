"""The reject report: one CSV line per problem, with the file line, a masked ID and a fixed reason code."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from app import idnumbers
from flows.imports.reference import severity

REPORT_COLUMNS = ("line", "id_masked", "reason", "detail", "severity")


def report_path(instance_path: str, kind: str, batch_id: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(instance_path) / "reports" / f"{kind}-{stamp}-{batch_id}.csv"


class RejectReport:
    """Written as UTF-8 with a BOM so that spreadsheet programs show the Chinese text."""

    def __init__(self, path: Path, always: bool = True):
        self.path, self._file, self._csv = path, None, None
        self.rejected = self.warned = 0
        if always:
            self._open()

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115 - see close()
        self._csv = csv.writer(self._file)
        self._csv.writerow(REPORT_COLUMNS)

    @property
    def written(self) -> bool:
        return self._file is not None

    def severity(self, code: str) -> str:
        """The level ("error" or "warning") of a reason code."""
        return severity(code)

    def add_row(self, line: int, raw_id: str, issues: list[tuple[str, str]]) -> bool:
        """Record a row's issues; True when the row is rejected (any error)."""
        masked = idnumbers.mask(raw_id) if raw_id else ""
        levels = [self.severity(code) for code, _ in issues]
        if self._csv is None:
            self._open()
        for (code, detail), level in zip(issues, levels, strict=True):
            self._csv.writerow((line, masked, code, idnumbers.redact(detail), level))
        rejected = "error" in levels
        self.rejected += rejected
        self.warned += bool(levels) and not rejected
        return rejected

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
