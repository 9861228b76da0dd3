"""`zerotrip import areas FILE` / `zerotrip import areas --synthetic`: names of districts, streets and communities
(6-digit GB/T 2260 codes, 9/12-digit 统计用区划代码, valid-from/to; docs/data-contracts.md "Areas")."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.common import EXIT_BAD_INPUT, ready_config, summary
from app.cli.import_cmd import import_group
from app.db import session_scope


@click.command("areas")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--synthetic", is_flag=True, help="the names shipped for the synthetic city (zerotrip seed)")
def import_areas(file: str | None, synthetic: bool) -> None:
    """Area names (district / street / community codes with valid-from/to dates)."""
    from flows import areas

    if bool(file) == synthetic:
        click.echo("Error: give a FILE or --synthetic", err=True)
        raise SystemExit(EXIT_BAD_INPUT)
    cfg = ready_config()
    result = areas.Result()
    try:
        with session_scope(cfg) as session:
            if synthetic:
                areas.upsert(session, areas.synthetic_rows(), result)
            else:
                result = areas.import_file(session, Path(file))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(EXIT_BAD_INPUT) from None
    for line, code, reason in sorted(result.rejected):
        click.echo(f"line {line}: {code or '-'} {reason}", err=True)
    summary(imported=result.imported, updated=result.updated, unchanged=result.unchanged,
            rejected=len(result.rejected))


def register(cli) -> None:
    if "areas" not in import_group.commands:
        import_group.add_command(import_areas)
