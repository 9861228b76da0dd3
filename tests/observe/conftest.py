"""`zerotrip serve` as a real process (gunicorn), waited on by readiness and progress, never a fixed timeout."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.notifications.conftest import account, application, resident, settings, wechat  # noqa: F401

STALL_SECONDS = 120  # fail only when nothing moved (no new log output, no answer) for this long


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, log_path: Path) -> None:
    """Until `url` answers 200: fail if the process exits, or if its log stopped growing for STALL_SECONDS."""
    last_size, last_move = -1, time.monotonic()
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited ({proc.returncode}):\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        size = log_path.stat().st_size if log_path.exists() else 0
        if size != last_size:
            last_size, last_move = size, time.monotonic()
        elif time.monotonic() - last_move > STALL_SECONDS:
            raise AssertionError(f"serve made no progress for {STALL_SECONDS}s and never became ready "
                                 f"(log {size} bytes):\n{log_path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


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
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
