"""`zerotrip scan NAME [--as-of YYYY-MM-DD]`: one program's proactive scan (NAME: the program's command name,
e.g. the one in the README; `zerotrip scan --help` lists them)."""

from __future__ import annotations

import sys

import click

from app.cli.common import DayType, as_of_day, ready_config, summary


class ProgramScans(click.Group):
    """One command per program that declares a scan (Program.scan), found in the registry when asked for."""

    def list_commands(self, ctx) -> list[str]:
        from flows.scans import scanning_programs

        return sorted(p.command_name for p in scanning_programs())

    def get_command(self, ctx, name: str):
        from flows.scans import by_command

        program = by_command(name)
        return _command(program) if program else None


def _command(program) -> click.Command:
    def progress(done: int, total: int, proposed: int) -> None:
        sys.stderr.write(f"scan {program.command_name}: batch {done}/{total}, proposed {proposed}\n")

    @click.command(program.command_name, help=f"Propose {program.name} to everyone newly eligible "
                   "(idempotent per date).")
    @click.option("--as-of", "as_of", type=DayType(), default=None,
                  help="Calendar date (Asia/Shanghai) to scan for; default today.")
    def run(as_of) -> None:
        from flows.scans import run_scan

        cfg = ready_config()
        day = as_of_day(cfg, as_of)
        result = run_scan(cfg, program, day, progress=progress)
        summary(program=result.program, as_of=day.isoformat(), mode=result.mode, proposed=result.proposed,
                skipped=str(result.skipped).lower(), seconds=f"{result.seconds:.2f}")

    return run


@click.group("scan", cls=ProgramScans)
def scan_group() -> None:
    """Proactive scans (主动发现)."""


def register(cli) -> None:
    cli.add_command(scan_group)
