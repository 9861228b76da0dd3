"""`zerotrip outbox status` and `zerotrip outbox retry --dead [--unknown]`: the operator's view of the outbox."""

from __future__ import annotations

from datetime import timedelta

import click
from sqlalchemy import func, select, update

from app.cli.common import ready_config, summary
from app.db import session_scope, utcnow
from app.models import OutboxMessage as T
from notifications import outbox as ob


@click.group("outbox")
def outbox_group() -> None:
    """Outbox messages: counts per state, re-queueing dead letters."""


@outbox_group.command("status")
def status() -> None:
    """Counts per state, rows due now, pending rows overdue by more than an hour, stuck in-flight rows."""
    cfg = ready_config()
    now = utcnow()
    with session_scope(cfg) as s:
        per_state = dict(s.execute(select(T.state, func.count()).group_by(T.state)).all())
        due = s.execute(select(func.count()).where(T.state == ob.PENDING, T.next_attempt_at <= now)).scalar_one()
        overdue = s.execute(select(func.count()).where(
            T.state == ob.PENDING, T.next_attempt_at <= now - timedelta(hours=1))).scalar_one()
        stuck = s.execute(select(func.count()).where(
            T.state.in_((ob.SENDING, ob.INFLIGHT)), T.lease_until < now)).scalar_one()
    for state in ob.STATES:
        click.echo(f"{state:<11} {per_state.get(state, 0):>9}  {ob.STATE_HELP[state]}", err=True)
    if overdue or stuck or per_state.get(ob.DEAD) or per_state.get(ob.UNKNOWN):
        click.echo("ALERT: overdue, stuck, dead or unknown rows need attention", err=True)
    summary(**{state: per_state.get(state, 0) for state in ob.STATES}, due=due, overdue_1h=overdue,
            stuck=stuck)


@outbox_group.command("retry")
@click.option("--dead", "dead", is_flag=True, help="Re-queue dead-lettered rows (transient errors exhausted).")
@click.option("--unknown", "unknown", is_flag=True,
              help="Re-queue rows whose dispatcher died mid-call (may deliver a second copy).")
def retry(dead: bool, unknown: bool) -> None:
    """Put dead (and/or unknown) rows back to pending with a fresh attempt count, due now."""
    if not (dead or unknown):
        raise click.UsageError("say which rows: --dead and/or --unknown")
    states = [s for s, wanted in ((ob.DEAD, dead), (ob.UNKNOWN, unknown)) if wanted]
    cfg = ready_config()
    with session_scope(cfg) as s:
        count = s.execute(update(T).where(T.state.in_(states)).values(
            state=ob.PENDING, attempts=0, next_attempt_at=utcnow(), lease_owner=None, lease_until=None,
            last_error=T.state + " → re-queued by operator").execution_options(synchronize_session=False)).rowcount
    summary(requeued=count)


def register(cli) -> None:
    cli.add_command(outbox_group)
