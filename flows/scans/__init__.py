"""Proactive scans (主动发现): the runner over every program that declares one (Program.scan)."""

from __future__ import annotations

from datetime import date


def scanning_programs() -> list:
    """The programs with a proactive scan, in the registry's order (a scan may read what an earlier one made)."""
    from flows.programs import PROGRAMS

    return [p for p in PROGRAMS.values() if p.scan]


def by_command(name: str):
    """The scanning program whose command name (`zerotrip scan NAME`) or code is `name`, or None."""
    return next((p for p in scanning_programs() if name in (p.command_name, p.code)), None)


def run_scan(cfg, program, as_of: date, engine=None, progress=None):
    """Run `program`'s scan for `as_of` (idempotent per date) → flows.scans.runs.ScanResult."""
    return program.hook("scan")(cfg, program.code, as_of, engine=engine, progress=progress)
