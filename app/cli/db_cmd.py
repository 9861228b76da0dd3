"""`zerotrip db upgrade`: the only command that changes the schema; `db backup` / `db restore`."""

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from app.cli.common import config_or_exit, summary
from app.migrate import upgrade


@click.group("db")
def db_group() -> None:
    """Database schema, backup and restore."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations up to head."""
    cfg = config_or_exit()
    before, after = upgrade(cfg.database_url)
    summary(upgraded=int(before != after), revision=",".join(sorted(after)) or "none")


@db_group.command("backup")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="New folder for the backup (default: <instance>/backups/<UTC time>).")
def db_backup(out_dir) -> None:
    """Back up the database (PostgreSQL: pg_dump custom format; SQLite: online backup API) and the instance
    files it refers to (audit anchors, import reports, payroll files) into a folder with a manifest of
    checksums. Never the keys: keep the data key that decrypts it as long as the backup."""
    from flows.backup.archive import RestoreRefused, backup
    from flows.backup.database import DumpFailed

    cfg = config_or_exit()
    target = Path(out_dir) if out_dir else Path(cfg.instance_path) / "backups" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        result = backup(cfg, target, progress=lambda line: click.echo(line, err=True))
    except (RestoreRefused, DumpFailed) as exc:
        raise click.ClickException(str(exc)) from None
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

    cfg = config_or_exit()
    try:
        result = restore(cfg, Path(backup_dir), force=force, progress=lambda line: click.echo(line, err=True))
    except (RestoreRefused, DumpFailed) as exc:
        raise click.ClickException(str(exc)) from None
    summary(**result)
    if not result["verified"]:
        click.echo(f"restore: tables differ from the manifest: {result['differ']}", err=True)
        sys.exit(1)


def register(cli) -> None:
    cli.add_command(db_group)
