"""`zerotrip serve` as a real process (gunicorn), waited on by readiness and progress, never a fixed timeout."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.notifications.conftest import account, application, resident, settings, wechat  # noqa: F401
from tests.ports import free_port
from tests.waiting import HTTP_TIMEOUT, Stalled, cpu_of, stop, wait_until


def wait_ready(url: str, proc: subprocess.Popen, log_path: Path) -> None:
    """Until `url` answers 200: fail if the process exits, or when neither its log nor its CPU time (master and
    workers) has moved for STALL_S (tests/waiting.py)."""

    def ready() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited ({proc.returncode}):\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            return requests.get(url, timeout=HTTP_TIMEOUT).status_code == 200
        except requests.ConnectionError:
            return False

    cpu = cpu_of(proc)
    try:
        wait_until(ready, what=f"zerotrip serve becoming ready at {url}",
                   progress=lambda: (log_path.stat().st_size if log_path.exists() else 0, cpu()))
    except Stalled as exc:
        raise AssertionError(f"{exc}\n{log_path.read_text(errors='replace')[-3000:]}") from None


def wait_for_line(log_path: Path, text: str, proc: subprocess.Popen) -> None:
    """Until the process's log holds `text`: fail if it exits, or when neither its log nor its CPU time (with its
    children) has moved for STALL_S."""

    def logged() -> bool:
        assert proc.poll() is None, log_path.read_text(errors="replace")
        return text in log_path.read_text(errors="replace")

    cpu = cpu_of(proc)
    try:
        wait_until(logged, what=f"{text!r} in {log_path.name}", progress=lambda: (log_path.stat().st_size, cpu()))
    except Stalled as exc:
        raise AssertionError(f"{exc}\n{log_path.read_text(errors='replace')[-3000:]}") from None


class Served:
    def __init__(self, base: str, metrics: str, log_path: Path, env: dict):
        self.base, self.metrics, self.log_path, self.env = base, metrics, log_path, env

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "app.cli", *args], env=self.env, capture_output=True, text=True)
        assert result.returncode == 0, f"zerotrip {' '.join(args)}: {result.stderr}"
        return result


@contextmanager
def serve(cfg, tmp_path: Path, *, env: dict | None = None, name: str = "serve"):
    """`zerotrip serve` (gunicorn, one worker) on free ports, with its own PROMETHEUS_MULTIPROC_DIR."""
    port, metrics_port = free_port(), free_port()
    metrics_dir = tmp_path / f"{name}-metrics"
    metrics_dir.mkdir()
    full_env = {**os.environ, "DATABASE_URL": cfg.database_url, "ZEROTRIP_INSTANCE_PATH": str(tmp_path / "instance"),
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "PYTHONUNBUFFERED": "1", **(env or {})}
    log_path = tmp_path / f"{name}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "1",
                                 "--metrics-port", str(metrics_port)], env=full_env, stdout=log, stderr=log)
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", proc, log_path)
        yield Served(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}/metrics", log_path, full_env)
    finally:
        stop(proc)  # SIGTERM, then waits while it works on its exit; SIGKILL only if it stalls
