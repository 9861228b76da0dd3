"""`zerotrip demo` starts the production topology: the API under gunicorn, one scheduler, N dispatchers (and
mock WeChat); SIGTERM stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.observe.conftest import STALL_SECONDS, free_port


def _children(pid: int) -> list[str]:
    """Command lines of the direct children of `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError, ValueError):
            continue
    return found


def test_demo_runs_gunicorn_one_scheduler_and_n_dispatchers(cfg, tmp_path):
    api, mock, metrics = free_port(), free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": cfg.database_url, "ZEROTRIP_INSTANCE_PATH": str(tmp_path / "instance"),
           "PYTHONUNBUFFERED": "1", "ZEROTRIP_WORKERS": "1"}
    log_path = tmp_path / "demo.log"
    with open(log_path, "w") as log:
        demo = subprocess.Popen([sys.executable, "-m", "app.cli", "demo", "--api-port", str(api), "--mock-port",
                                 str(mock), "--metrics-port", str(metrics), "--dispatchers", "3"],
                                env=env, stdout=log, stderr=log)
    try:
        last_size, last_move = -1, time.monotonic()
        while "Ctrl-C stops everything" not in log_path.read_text(errors="replace"):
            assert demo.poll() is None, log_path.read_text(errors="replace")
            size = log_path.stat().st_size
            if size != last_size:
                last_size, last_move = size, time.monotonic()
            assert time.monotonic() - last_move < STALL_SECONDS, log_path.read_text(errors="replace")
            time.sleep(0.2)
        text = log_path.read_text(errors="replace")
        assert "serve: gunicorn gthread workers=1 threads=4" in text and "one scheduler and 3 dispatchers" in text
        children = _children(demo.pid)
        assert sum(" scheduler" in c for c in children) == 1, children
        assert sum(c.rstrip().endswith(" dispatch") for c in children) == 3, children
        assert sum(" serve " in c for c in children) == 1, children
        assert requests.get(f"http://127.0.0.1:{api}/readyz", timeout=30).json()["status"] == "ready"
        assert requests.get(f"http://127.0.0.1:{metrics}/metrics", timeout=30).status_code == 200
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=120)
    assert "demo stopped" in log_path.read_text(errors="replace")
