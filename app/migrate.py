"""Schema migrations: only `zerotrip db upgrade` changes the schema; everything else checks it is at head."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.db import make_engine

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str) -> tuple[set[str], set[str]]:
    """Upgrade to head; return (revisions before, revisions after)."""
    before = current_revisions(database_url)
    command.upgrade(alembic_config(database_url), "heads")
    return before, current_revisions(database_url)


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current_revisions(database_url: str) -> set[str]:
    with make_engine(database_url).connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def is_at_head(database_url: str) -> bool:
    return current_revisions(database_url) == head_revisions()
