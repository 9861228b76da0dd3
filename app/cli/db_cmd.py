"""`zerotrip db upgrade`: the only command that changes the schema; `db backup` / `db restore`; `db archive`."""

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from app.cli.common import reachable_config, ready_config, sigterm_as_interrupt, summary
from app.migrate import SchemaAhead, upgrade

ARCHIVE_LEASE = "db:archive"


def _os_error(exc: OSError) -> str:
    """One line for a file the command could not write or read (a read-only or immutable file, a full disk)."""
    return f"{exc.strerror or type(exc).__name__}: {exc.filename}" if exc.filename else str(exc)


@click.group("db")
def db_group() -> None:
    """Database schema, backup, restore and archive."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations up to head."""
    cfg = reachable_config()
    try:
        before, after = upgrade(cfg.database_url)
    except SchemaAhead as exc:
        raise click.ClickException(str(exc)) from None
    summary(upgraded=int(before != after), revision=",".join(sorted(after)) or "none")


@db_group.command("backup")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="New folder for the backup (default: <instance>/backups/<UTC time>).")
def db_backup(out_dir) -> None:
    """Back up the database (PostgreSQL: pg_dump custom format; SQLite: online backup API) and the instance
    files it refers to (audit anchors, import reports, payroll files) into a folder with a manifest of
    checksums. Never the keys: keep the data key that decrypts it as long as the backup."""
    from flows.backup.archive import BackupFailed, RestoreRefused, backup
    from flows.backup.database import DumpFailed

    cfg = reachable_config()
    target = Path(out_dir) if out_dir else Path(cfg.instance_path) / "backups" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        with sigterm_as_interrupt():  # a killed backup stops pg_dump and removes its half-written folder
            result = backup(cfg, target, progress=lambda line: click.echo(line, err=True))
    except (RestoreRefused, DumpFailed, BackupFailed) as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(_os_error(exc)) from None
    summary(**result)


@db_group.command("restore")
@click.argument("backup_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--force", is_flag=True, help="Replace a target database that holds data (and differing files).")
def db_restore(backup_dir, force: bool) -> None:
    """Restore a backup folder into DATABASE_URL and the instance folder. Refuses, writing nothing, when the
    backup is damaged, when the configured data keys cannot decrypt its samples, or when the target holds
    data and --force is not given; then checks every table against the manifest's checksums."""
    from flows.backup.archive import RestoreRefused, restore
    from flows.backup.database import DumpFailed

    cfg = reachable_config()
    try:
        with sigterm_as_interrupt():  # a killed restore stops pg_restore and puts the target's data back
            result = restore(cfg, Path(backup_dir), force=force, progress=lambda line: click.echo(line, err=True))
    except (RestoreRefused, DumpFailed) as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(_os_error(exc)) from None
    summary(**result)
    if not result["verified"]:
        click.echo(f"restore: tables differ from the manifest: {result['differ']}", err=True)
        sys.exit(1)


@db_group.command("archive")
@click.option("--before", required=True, metavar="YYYY-MM", help="Archive every month before this one.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Folder for the dumps (default: <instance>/archive).")
def db_archive(before, out_dir) -> None:
    """PostgreSQL: detach the months before YYYY-MM of the partitioned tables (outbox, audit events, payroll
    lines, exchange records) into the `archive` schema and dump each (pg_dump custom format, SHA-256 recorded);
    never drops. A month with a message not yet final refuses (and the months after it); months younger than
    ZEROTRIP_ARCHIVE_AFTER_MONTHS (default 24) stay. `zerotrip audit verify` continues from the archived
    boundary, which is also written to the anchor file."""
    from flows import joblock
    from flows.backup.database import DumpFailed
    from flows.backup.partitions import ArchiveRefused, archive
    from flows.dates import today_shanghai

    cfg = ready_config()
    # one archive at a time: two recorded each month twice and wrote the same dump file at once
    if not joblock.acquire(cfg, ARCHIVE_LEASE, ttl_seconds=6 * 3600, take_over_gone=True):
        click.echo(f"error: another `zerotrip db archive` is running "
                   f"({joblock.holder(cfg, ARCHIVE_LEASE) or 'a moment ago'}); nothing was done", err=True)
        sys.exit(2)
    try:
        result = archive(cfg, before, today_shanghai(), Path(out_dir) if out_dir else None,
                         progress=lambda line: click.echo(line, err=True))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--before") from None
    except (ArchiveRefused, DumpFailed) as exc:
        click.echo(f"archive refused: {exc}", err=True)
        summary(archived_months=0, refused=1)
        sys.exit(1)
    except OSError as exc:
        raise click.ClickException(_os_error(exc)) from None
    finally:
        joblock.release(cfg, ARCHIVE_LEASE)
    stopped = result.pop("stopped", None)
    if not stopped:
        summary(**result)
        return
    # part of what was asked is not archived: the summary says so beside what was
    click.echo(f"archive stopped: {stopped}", err=True)
    summary(**result, refused=1)
    sys.exit(1)


def register(cli) -> None:
    cli.add_command(db_group)
