"""`zerotrip import population FILE` / `zerotrip import beneficiaries FILE`: partner CSV files into the registry."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from app import idnumbers
from app.cli.common import EXIT_BAD_INPUT, Progress, ready_config, sigterm_as_interrupt, summary
from flows.imports.beneficiaries import import_beneficiaries
from flows.imports.csvfile import BadInput
from flows.imports.population import import_population


@click.group("import")
def import_group() -> None:
    """Import partner data (UTF-8 CSV); rejected rows go to a report under instance/reports/."""


def run_import(job, path: str, label: str) -> None:
    """Run one import job on `path` with progress on stderr; exit 2 (nothing written) for an unreadable file or
    while another import of the same kind runs (its lease `import:<kind>`; one killed on this host is taken
    over); exit 1 with one line — never a traceback, which would print rows of the file — when the database or
    the machine fails midway."""
    from flows import joblock

    cfg = ready_config()
    lease = f"import:{label}"
    if not joblock.acquire(cfg, lease, ttl_seconds=6 * 3600, take_over_gone=True):
        click.echo(f"error: another `zerotrip import {label}` is running ({joblock.holder(cfg, lease) or 'a moment ago'}); "
                   "run this one when it has finished", err=True)
        sys.exit(EXIT_BAD_INPUT)
    progress = Progress(label)
    # SIGTERM ends an import as Ctrl-C does: the open batch rolls back, a first load builds the indexes it
    # dropped, the worker processes finish their blocks and exit, the leases are released
    try:
        with sigterm_as_interrupt():
            result = job(cfg, Path(path), progress=progress.update,
                         on_total=lambda n: setattr(progress, "total", n))
    except BadInput as exc:
        click.echo(f"error: {idnumbers.redact(str(exc))}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except Exception as exc:  # noqa: BLE001 - said in one line; its open transaction rolls back
        click.echo(f"error: the import stopped: {failure_of(exc)}", err=True)
        sys.exit(1)
    finally:
        joblock.release(cfg, lease)
    done = sum(result.get(k, 0) for k in ("imported", "updated", "unchanged", "skipped", "rejected"))
    progress.update(done, force=True)
    if getattr(progress, "total", None) and done < progress.total:  # the survey read more rows than were loaded
        click.echo(f"error: {Path(path).name} changed while it was imported ({done} of the {progress.total} rows "
                   "surveyed were read): import the complete file again", err=True)
        summary(**{k: v for k, v in result.items() if k != "batch"}, complete="false")
        sys.exit(1)
    summary(**{k: v for k, v in result.items() if k != "batch"})


def failure_of(exc: Exception) -> str:
    """An unexpected failure in one line without the data it was handling: a database error's own message (not
    SQLAlchemy's, which lists the statement's parameters: names, dates, households), ID numbers masked."""
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [""])[0][:200]
    return idnumbers.redact(f"{type(orig).__name__}: {first}" if first else type(orig).__name__)


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
