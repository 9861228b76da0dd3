"""`zerotrip scan elderly-allowance [--as-of YYYY-MM-DD]`."""

from __future__ import annotations

import sys

import click

from app.cli.common import ready_config, summary
from flows.dates import today_shanghai
from flows.scans.elderly_allowance import scan_turning_80


@click.group("scan")
def scan_group() -> None:
    """Proactive scans (主动发现)."""


def _progress(done: int, total: int, proposed: int) -> None:
    sys.stderr.write(f"scan elderly-allowance: residents {done}/{total}, proposed {proposed}\n")


@scan_group.command("elderly-allowance")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Calendar date (Asia/Shanghai) to scan for; default today.")
def scan_elderly_allowance(as_of) -> None:
    """Propose the elderly allowance to everyone who has turned 80 (idempotent per date)."""
    cfg = ready_config()
    day = as_of.date() if as_of else today_shanghai()
    result = scan_turning_80(cfg, day, progress=_progress)
    summary(program=result.program, as_of=day.isoformat(), mode=result.mode, proposed=result.proposed,
            skipped=str(result.skipped).lower(), seconds=f"{result.seconds:.2f}")


def register(cli) -> None:
    cli.add_command(scan_group)
