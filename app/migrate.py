"""Schema migrations: only `zerotrip db upgrade` changes the schema; everything else checks it is at head.

`is_at_head` is on every command's start-up path and behind `/readyz`, so it does not import Alembic: the
heads are read from the revision files (`revision` / `down_revision` assignments, parsed, never executed)
and the database's revisions from the `alembic_version` table.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from app.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ROOT / "migrations" / "versions"


def alembic_config(database_url: str):
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


class SchemaAhead(RuntimeError):
    """The database carries a revision this code does not know: newer code migrated it (a rollback of the code,
    or a backup of a newer version restored). Upgrading cannot help; running the newer code, or restoring a
    backup of this version, can."""


def unknown_revisions(database_url: str) -> set[str]:
    """The database's revisions that no migration file of this code names (empty when it is at or behind head)."""
    return current_revisions(database_url) - set(known_revisions())


def ahead_message(unknown: set[str]) -> str:
    return (f"the database is at revision {', '.join(sorted(unknown))}, newer than this code (head "
            f"{', '.join(sorted(head_revisions()))}): run the code that migrated it")


def upgrade(database_url: str) -> tuple[set[str], set[str]]:
    """Upgrade to head; return (revisions before, revisions after). SchemaAhead for a database newer than this
    code (Alembic would fail with a traceback on the revision it cannot locate)."""
    from alembic import command

    before = current_revisions(database_url)
    if before - set(known_revisions()):
        raise SchemaAhead(ahead_message(before - set(known_revisions())))
    command.upgrade(alembic_config(database_url), "heads")
    return before, current_revisions(database_url)


def _assignments(path: Path) -> dict:
    values = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target = node.target if isinstance(node, ast.AnnAssign) else (node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision") and node.value is not None:
            values[target.id] = ast.literal_eval(node.value)
    return values


@functools.cache
def known_revisions() -> frozenset[str]:
    """Every revision of this code's migration files."""
    return frozenset(found["revision"] for found in map(_assignments, VERSIONS.glob("*.py")) if "revision" in found)


@functools.cache
def head_revisions() -> frozenset[str]:
    """Revisions that no other revision names as its parent."""
    revisions, parents = set(), set()
    for path in VERSIONS.glob("*.py"):
        found = _assignments(path)
        if "revision" not in found:
            continue
        revisions.add(found["revision"])
        down = found.get("down_revision")
        parents.update(down if isinstance(down, tuple | list) else ([down] if down else []))
    return frozenset(revisions - parents)


def current_revisions(database_url: str) -> set[str]:
    from sqlalchemy import inspect, text

    with make_engine(database_url).connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return set()
        return {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}


def is_at_head(database_url: str) -> bool:
    return current_revisions(database_url) == set(head_revisions())
