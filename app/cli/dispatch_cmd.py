"""`zerotrip dispatch [--once]`: send due outbox messages (WeChat subscribe messages, fallbacks, inbox)."""

from __future__ import annotations

import signal
import threading

import click

from app.cli.common import ready_config, summary
from notifications.dispatcher import dispatch_once, run_forever

SUMMARY_KEYS = ("claimed", "sent", "no_channel", "no_quota", "retry", "failed", "dead", "unknown",
                "inbox_only", "delegated", "deferred")


def summarize(counts) -> None:
    summary(**{k: counts.get(k, 0) for k in SUMMARY_KEYS})


def _count_results() -> None:
    """Dispatch results by channel and error class into the metrics (shared with serve through
    PROMETHEUS_MULTIPROC_DIR when this dispatcher runs on the same host; `zerotrip demo` does)."""
    import os

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    from app.observe.metrics import count_dispatch
    from notifications import dispatcher

    if count_dispatch not in dispatcher.result_listeners:
        dispatcher.result_listeners.append(count_dispatch)


@click.command("dispatch")
@click.option("--once", is_flag=True, help="Process every row due now, print a summary, exit.")
@click.option("--limit", type=click.IntRange(min=1), help="With --once: claim at most this many rows.")
@click.option("--worker-id", help="Name used in leases (default host:pid).")
def dispatch(once: bool, limit: int | None, worker_id: str | None) -> None:
    """Send due outbox messages. Without --once: loop until SIGTERM/SIGINT (several may run at once)."""
    from app.logging_setup import configure_logging
    from notifications.dispatcher import DispatchSettings

    cfg = ready_config()
    configure_logging(cfg)  # ZEROTRIP_LOG_FORMAT=json holds for this process too (its alerts were plain text)
    try:
        DispatchSettings.from_config(cfg)  # a setting it cannot read stops it now, not at night mid-batch
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    _count_results()
    if once:
        summarize(dispatch_once(cfg, limit=limit, worker_id=worker_id))
        return
    stop = threading.Event()

    def _stop(_signum, _frame):
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        click.echo("dispatcher running (SIGTERM/SIGINT to stop)", err=True)
        total = run_forever(cfg, stop=stop, worker_id=worker_id)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    summarize(total)


def register(cli) -> None:
    cli.add_command(dispatch)
