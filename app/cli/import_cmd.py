"""`zerotrip import population FILE` / `zerotrip import beneficiaries FILE`: partner CSV files into the registry."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from app import idnumbers
from app.cli.common import EXIT_BAD_INPUT, Progress, ready_config, summary
from flows.imports.beneficiaries import import_beneficiaries
from flows.imports.csvfile import BadInput
from flows.imports.population import import_population


@click.group("import")
def import_group() -> None:
    """Import partner data (UTF-8 CSV); rejected rows go to a report under instance/reports/."""


def run_import(job, path: str, label: str) -> None:
    """Run one import job on `path` with progress on stderr; exit 2 (nothing written) for an unreadable file."""
    cfg = ready_config()
    progress = Progress(label)
    try:
        result = job(cfg, Path(path), progress=progress.update, on_total=lambda n: setattr(progress, "total", n))
    except BadInput as exc:
        click.echo(f"error: {idnumbers.redact(str(exc))}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    progress.update(sum(result[k] for k in ("imported", "updated", "unchanged", "rejected")), force=True)
    summary(**{k: v for k, v in result.items() if k != "batch"})


@import_group.command("population")
@click.argument("file", type=click.Path(dir_okay=False))
def population(file: str) -> None:
    """Upsert residents by ID number from a population registry extract."""
    run_import(import_population, file, "population")


@import_group.command("beneficiaries")
@click.argument("file", type=click.Path(dir_okay=False))
def beneficiaries(file: str) -> None:
    """Record people already receiving a benefit (old manual process) as active legacy benefits."""
    run_import(import_beneficiaries, file, "beneficiaries")


def register(cli) -> None:
    cli.add_command(import_group)
