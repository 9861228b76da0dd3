"""`zerotrip db upgrade`: the only command that changes the schema."""

import click

from app.cli.common import config_or_exit, summary
from app.migrate import upgrade


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations up to head."""
    cfg = config_or_exit()
    before, after = upgrade(cfg.database_url)
    summary(upgraded=int(before != after), revision=",".join(sorted(after)) or "none")


def register(cli) -> None:
    cli.add_command(db_group)
