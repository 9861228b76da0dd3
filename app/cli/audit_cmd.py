"""`zerotrip audit verify|anchor`: check the hash chain (first broken link) and anchor its head outside the DB."""

from __future__ import annotations

import click

from app.cli.common import ready_config, summary
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
    with session_scope(cfg) as session:
        result = verify(session, anchor_path or cfg.audit_anchor_path)
        # the supervisor's dashboard shows the last verification (issue 13 item 3)
        record(session, actor="cli:audit-verify", action="audit.verify", result="ok" if result.ok else "broken",
               details={"events": result.events, "broken_seq": result.broken_seq})
    if not result.ok:
        click.echo(f"audit chain BROKEN at seq {result.broken_seq}: {result.reason}", err=True)
        summary(ok=0, events=result.events, broken_seq=result.broken_seq)
        raise SystemExit(1)
    summary(ok=1, events=result.events, head_seq=result.head_seq, head=result.head_hash[:16])


@audit_group.command("anchor")
@click.option("--anchors", "anchor_path", default=None, help="anchor file (default: AUDIT_ANCHOR_PATH)")
def audit_anchor(anchor_path) -> None:
    """Append the chain head (seq, hash, time) to the anchor file (the daily scheduler job does this)."""
    from app.audit import write_anchor

    cfg = ready_config()
    with session_scope(cfg) as session:
        anchor = write_anchor(session, anchor_path or cfg.audit_anchor_path)
    summary(anchored=1, seq=anchor["seq"], head=anchor["hash"][:16])


def register(cli) -> None:
    cli.add_command(audit_group)
