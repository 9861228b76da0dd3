"""`zerotrip serve`, `zerotrip scheduler`, `zerotrip mock-wechat`: the long-running processes."""

from __future__ import annotations

import click

from app.cli.common import config_or_exit, ready_config


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the HTTP API (Flask's threaded server; use gunicorn `app.wsgi:application` in production)."""
    from werkzeug.serving import run_simple

    from app import create_app

    cfg = ready_config()
    click.echo(f"api=http://{host}:{port} docs=http://{host}:{port}/docs", err=True)
    run_simple(host, port, create_app(cfg), threaded=True, use_reloader=False)


@click.command("scheduler")
def scheduler() -> None:
    """Run the scheduler process (daily scans)."""
    from app.logging_setup import configure_logging
    from app.scheduler import main

    cfg = ready_config()
    configure_logging(cfg)
    main(cfg)


@click.command("mock-wechat")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5001, show_default=True, type=int)
def mock_wechat(host: str, port: int) -> None:
    """Run the mock WeChat server (its own Flask app; shares no code with the backend)."""
    import os
    import sys

    config_or_exit()
    args = [sys.executable, "-m", "mock_wechat", "--host", host, "--port", str(port)]
    os.execv(sys.executable, args)  # its own process image: the backend never imports mock_wechat


def register(cli) -> None:
    for command in (serve, scheduler, mock_wechat):
        cli.add_command(command)
