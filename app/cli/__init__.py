"""The `zerotrip` command line. One module per command group; each says what it did in one line."""

from __future__ import annotations

import click

from app.cli import (
    audit_cmd,
    db_cmd,
    demo_cmd,
    dispatch_cmd,
    import_cmd,
    outbox_cmd,
    partner_import_cmd,
    payroll_cmd,
    scan_cmd,
    seed_cmd,
    serve_cmd,
    simulate_cmd,
    staff_cmd,
)

COMMANDS = (db_cmd, import_cmd, seed_cmd, scan_cmd, dispatch_cmd, outbox_cmd, serve_cmd, demo_cmd, staff_cmd, audit_cmd,
            partner_import_cmd, payroll_cmd, simulate_cmd)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """ZeroTrip: proactive civil-affairs benefits (免申即享)."""


for _module in COMMANDS:
    _module.register(cli)


def main() -> None:
    cli(prog_name="zerotrip")
