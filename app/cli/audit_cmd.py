"""`zerotrip audit verify|anchor`: check the hash chain (first broken link) and anchor its head outside the DB."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.common import EXIT_BAD_INPUT, ready_config, summary
from app.db import session_scope


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit trail."""


@audit_group.command("verify")
@click.option("--anchors", "anchor_path", default=None, help="anchor file (default: AUDIT_ANCHOR_PATH)")
def audit_verify(anchor_path) -> None:
    """Walk the chain; exit 1 and name the first broken seq if anything was edited, deleted, reordered or
    rewritten (a full rewrite is caught by the anchors)."""
    from app.audit import record, verify

    cfg = ready_config()
    anchors = _readable_anchors(anchor_path, cfg.audit_anchor_path)
    with session_scope(cfg) as session:
        result = verify(session, anchors)
        # the supervisor's dashboard shows the last verification (issue 13 item 3)
        record(session, actor="cli:audit-verify", action="audit.verify", result="ok" if result.ok else "broken",
               details={"events": result.events, "broken_seq": result.broken_seq})
    if not result.ok:
        click.echo(f"audit chain BROKEN at seq {result.broken_seq}: {result.reason}", err=True)
        summary(ok=0, events=result.events, broken_seq=result.broken_seq)
        raise SystemExit(1)
    summary(ok=1, events=result.events, head_seq=result.head_seq, head=result.head_hash[:16])


def _readable_anchors(given: str | None, default: str) -> str:
    """The anchor file to check against, read once here so that a bad one is a clear refusal (exit 2), never a
    traceback nor a silent pass: --anchors must name an existing file; the configured default may be absent (no
    anchor written yet), which is said on stderr."""
    from app.audit import read_anchors

    path = Path(given or default)
    if not path.exists():
        if given:
            click.echo(f"Error: anchor file {path} does not exist: nothing to check the chain against", err=True)
            raise SystemExit(EXIT_BAD_INPUT)
        click.echo(f"audit verify: no anchor file at {path} (AUDIT_ANCHOR_PATH): the chain is checked without "
                   "anchors, so a full rewrite would not be caught", err=True)
        return str(path)
    try:
        anchors = read_anchors(str(path))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, OverflowError) as exc:
        click.echo(f"Error: anchor file {path} is not readable as anchor lines ({type(exc).__name__}: "
                   f"{str(exc)[:200]})", err=True)
        raise SystemExit(EXIT_BAD_INPUT) from None
    if not anchors:
        click.echo(f"audit verify: the anchor file {path} holds no anchor: the chain is checked without anchors, "
                   "so a full rewrite would not be caught", err=True)
    return str(path)


@audit_group.command("anchor")
@click.option("--anchors", "anchor_path", default=None, help="anchor file (default: AUDIT_ANCHOR_PATH)")
def audit_anchor(anchor_path) -> None:
    """Append the chain head (seq, hash, time) to the anchor file (the daily scheduler job does this)."""
    from app.audit import write_anchor

    cfg = ready_config()
    try:
        with session_scope(cfg) as session:
            anchor = write_anchor(session, anchor_path or cfg.audit_anchor_path)
    except OSError as exc:  # an unwritable or immutable file, a folder that is a file: one line
        raise click.ClickException(f"cannot write the anchor file: {exc.strerror or type(exc).__name__}: "
                                   f"{exc.filename or anchor_path or cfg.audit_anchor_path}") from None
    summary(anchored=1, seq=anchor["seq"], head=anchor["hash"][:16])


def register(cli) -> None:
    cli.add_command(audit_group)
