"""`zerotrip demo`: the production topology on one machine — the API under gunicorn, one scheduler, N
dispatchers — plus mock WeChat, with their URLs. All share one fresh PROMETHEUS_MULTIPROC_DIR so that the
API's metrics port shows the dispatchers' and the scheduler's families too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import click

from app.cli.common import ready_config

PROCESSES = (
    ("mock-wechat", ["mock-wechat", "--port", "{mock_port}"]),
    ("api", ["serve", "--port", "{api_port}", "--metrics-port", "{metrics_port}"]),
    ("scheduler", ["scheduler"]),
    ("exchange-worker", ["exchange", "worker"]),
)
DISPATCHER = ["dispatch"]  # worker id host:pid, unique per process


def _wait_http(url: str, seconds: float = 120.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except Exception:  # noqa: BLE001
            time.sleep(0.2)
    return False


def demo_environment(api_port: int, mock_port: int) -> dict:
    """The demo wires everything to the mock: WeChat API, SMS gateway, and WeChat's event push to our webhook."""
    env = dict(os.environ)
    env.setdefault("WECHAT_API_BASE", f"http://127.0.0.1:{mock_port}")
    env.setdefault("SMS_API_BASE", f"http://127.0.0.1:{mock_port}")
    env.setdefault("MOCK_WECHAT_WEBHOOK_URL", f"http://127.0.0.1:{api_port}/api/v1/wechat/events")
    return env


@click.command("demo")
@click.option("--api-port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--mock-port", default=5001, show_default=True, type=click.IntRange(1, 65535))
@click.option("--metrics-port", default=9464, show_default=True, type=click.IntRange(1, 65535))
@click.option("--dispatchers", default=2, show_default=True, type=click.IntRange(min=1),
              help="dispatcher processes (they share the outbox through leases)")
def demo(api_port: int, mock_port: int, metrics_port: int, dispatchers: int) -> None:
    """Start everything for a local demo; Ctrl-C stops it all."""
    import shutil
    import tempfile

    cfg = ready_config()
    env_note = "" if os.environ.get("WECHAT_API_BASE", f":{mock_port}").endswith(f":{mock_port}") \
        else f" (WECHAT_API_BASE={cfg.wechat_api_base})"
    env = demo_environment(api_port, mock_port)
    metrics_dir = tempfile.mkdtemp(prefix="zerotrip-demo-metrics-")
    env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    ports = {"api_port": api_port, "mock_port": mock_port, "metrics_port": metrics_port}
    commands = [*PROCESSES, *((f"dispatcher-{n}", DISPATCHER) for n in range(1, dispatchers + 1))]
    children: list = []
    signal.signal(signal.SIGTERM, _interrupt)  # from here on, a SIGTERM stops the children as Ctrl-C does
    try:
        try:
            for name, args in commands:
                argv = [sys.executable, "-m", "app.cli", *[a.format(**ports) for a in args]]
                children.append((name, subprocess.Popen(argv, env=env)))
                if name == "mock-wechat":
                    _wait_http(f"http://127.0.0.1:{mock_port}/__mock__/messages")
            _wait_http(f"http://127.0.0.1:{api_port}/readyz")
        except (KeyboardInterrupt, _Stop):  # interrupted while starting: nothing may outlive the demo
            _stop(children)
            raise SystemExit(130) from None
        click.echo(f"api:          http://127.0.0.1:{api_port}/api/v1  (gunicorn; see its start line above)")
        click.echo(f"swagger ui:   http://127.0.0.1:{api_port}/docs")
        click.echo(f"health:       http://127.0.0.1:{api_port}/healthz  ready: /readyz")
        click.echo(f"metrics:      http://127.0.0.1:{metrics_port}/metrics  (loopback only)")
        click.echo(f"phone app:    http://127.0.0.1:{api_port}/m/")
        click.echo(f"mock wechat:  http://127.0.0.1:{mock_port}/__mock__/messages{env_note}")
        click.echo(f"mock sms:     http://127.0.0.1:{mock_port}/__mock__/sms")
        click.echo(f"one scheduler and {dispatchers} dispatchers running; Ctrl-C stops everything")
        _supervise(children)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


class _Stop(Exception):
    """SIGTERM, raised where the demo is waiting (start-up or supervision)."""


def _interrupt(*_) -> None:
    raise _Stop


def _supervise(children) -> None:
    try:
        stopping = False
        while not stopping:
            for name, proc in children:
                if proc.poll() is not None:
                    click.echo(f"{name} exited with code {proc.returncode}; stopping the demo", err=True)
                    stopping = True
            time.sleep(0.5)
    except (KeyboardInterrupt, _Stop):
        pass
    _stop(children)


def _stop(children) -> None:
    """Terminate every child still running, wait up to 10 s each, kill what remains."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the clean-up short
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for _name, proc in children:
        if proc.poll() is None:
            proc.terminate()
    for _name, proc in children:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    click.echo("demo stopped")


def register(cli) -> None:
    cli.add_command(demo)
