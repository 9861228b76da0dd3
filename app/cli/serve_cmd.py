"""`zerotrip serve`, `zerotrip scheduler`, `zerotrip mock-wechat`: the long-running processes."""

from __future__ import annotations

import os
import shutil

import click

from app.cli.common import DayType, ready_config


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def prepare_metrics_dir() -> str | None:
    """PROMETHEUS_MULTIPROC_DIR before prometheus_client is imported anywhere: the operator's (or the demo's)
    if set, else a fresh one this serve owns and removes at exit."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
        return None
    import tempfile

    owned = tempfile.mkdtemp(prefix="zerotrip-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = owned
    return owned


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="ZEROTRIP_HOST")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535), envvar="ZEROTRIP_PORT")
@click.option("--workers", type=click.IntRange(min=1), envvar="ZEROTRIP_WORKERS",
              help="gunicorn worker processes [default: the cores this process may use]")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(min=1), envvar="ZEROTRIP_THREADS",
              help="threads per worker (gthread)")
@click.option("--timeout", default=30, show_default=True, type=click.IntRange(min=1), envvar="ZEROTRIP_WORKER_TIMEOUT",
              help="seconds a worker may stay silent before gunicorn restarts it")
@click.option("--metrics-host", default="127.0.0.1", show_default=True, envvar="ZEROTRIP_METRICS_HOST",
              help="where the Prometheus port listens (not loopback needs ZEROTRIP_METRICS_TOKEN)")
@click.option("--metrics-port", default=9464, show_default=True, type=click.IntRange(0, 65535),
              envvar="ZEROTRIP_METRICS_PORT", help="0 turns the metrics port off")
@click.option("--dev", is_flag=True, help="Flask's threaded development server instead of gunicorn.")
def serve(host: str, port: int, workers: int | None, threads: int, timeout: int, metrics_host: str,
          metrics_port: int, dev: bool) -> None:
    """Run the HTTP API under gunicorn (gthread), or Flask's server with --dev."""
    from app.config import ConfigError
    from app.observe.server import check_binding

    cfg = ready_config()
    metrics = (metrics_host, metrics_port) if metrics_port else None
    if metrics is not None:
        try:
            check_binding(metrics_host, cfg.metrics_token)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
    metrics_note = f" metrics=http://{metrics_host}:{metrics_port}/metrics" if metrics else ""
    if dev:
        _serve_dev(cfg, host, port, metrics)
        return
    owned = prepare_metrics_dir()
    workers = workers or default_workers()
    click.echo(f"serve: gunicorn gthread workers={workers} threads={threads} api=http://{host}:{port} "
               f"docs=http://{host}:{port}/docs{metrics_note}", err=True)
    from app.cli.gunicorn_app import ZeroTripServer

    options = {"bind": f"{host}:{port}", "worker_class": "gthread", "workers": workers, "threads": threads,
               "timeout": timeout, "graceful_timeout": 10, "keepalive": 5, "accesslog": None,
               "errorlog": "-", "loglevel": "info", "proc_name": "zerotrip-api",
               # X-Forwarded-Proto & co. only from our own proxies, like X-Forwarded-For (app/api/client_address.py)
               "forwarded_allow_ips": ",".join(cfg.trusted_proxies.replace(",", " ").split())}
    master = os.getpid()
    try:
        ZeroTripServer(cfg, options, metrics, owned).run()
    finally:  # also when gunicorn could not bind (it exits without its on_exit hook) — in the master only: a
        # forked worker leaves run() through this same frame when it exits, while the others still write there
        if owned and os.getpid() == master:
            shutil.rmtree(owned, ignore_errors=True)


def _serve_dev(cfg, host: str, port: int, metrics) -> None:
    from werkzeug.serving import run_simple

    from app import create_app

    click.echo(f"serve: Flask development server (--dev) api=http://{host}:{port} docs=http://{host}:{port}/docs",
               err=True)
    if metrics is not None:
        from app.observe import server

        server.start(cfg, *metrics)
    run_simple(host, port, create_app(cfg), threaded=True, use_reloader=False)


@click.group("scheduler", invoke_without_command=True)
@click.pass_context
def scheduler(ctx: click.Context) -> None:
    """Run the scheduler process (daily scans)."""
    if ctx.invoked_subcommand is not None:
        return
    from app.logging_setup import configure_logging
    from app.scheduler import main

    cfg = ready_config()
    configure_logging(cfg)
    main(cfg)


@scheduler.command("run-once")
@click.option("--as-of", "as_of", type=DayType(), default=None,
              help="The day the jobs run for (the test clock; refused in production). Default: today.")
def run_once(as_of) -> None:
    """Run the daily jobs once (partitions, scans, lifecycle, 低保 deadlines) for one day, then exit."""
    from app.cli.common import summary
    from app.logging_setup import configure_logging
    from app.scheduler import ensure_partitions, run_daily_scans
    from flows.dates import today_shanghai

    cfg = ready_config()
    if as_of is not None and cfg.env == "production":
        raise click.UsageError("--as-of is a test clock and is refused in production (ZEROTRIP_ENV=production)")
    configure_logging(cfg)
    day = as_of.date() if as_of else today_shanghai()
    ensure_partitions(cfg, day)
    run_daily_scans(cfg, day)
    summary(scheduler="run-once", as_of=day.isoformat())


@click.command("mock-wechat")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5001, show_default=True, type=click.IntRange(0, 65535))
def mock_wechat(host: str, port: int) -> None:
    """Run the mock WeChat server (its own Flask app; shares no code with the backend)."""
    import sys

    # no backend configuration is read: it would generate the backend's development keys for a process that
    # shares nothing with it
    args = [sys.executable, "-m", "mock_wechat", "--host", host, "--port", str(port)]
    os.execv(sys.executable, args)  # its own process image: the backend never imports mock_wechat


def register(cli) -> None:
    for command in (serve, scheduler, mock_wechat):
        cli.add_command(command)
