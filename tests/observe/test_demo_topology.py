"""`zerotrip demo` starts the production topology: the API under gunicorn, one scheduler, N dispatchers (and
mock WeChat); SIGTERM stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from tests.observe.conftest import free_port, wait_for_line
from tests.waiting import HTTP_TIMEOUT, wait_exit


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
        wait_for_line(log_path, "Ctrl-C stops everything", demo)
        text = log_path.read_text(errors="replace")
        assert "serve: gunicorn gthread workers=1 threads=4" in text and "one scheduler and 3 dispatchers" in text
        children = _children(demo.pid)
        assert sum(" scheduler" in c for c in children) == 1, children
        assert sum(c.rstrip().endswith(" dispatch") for c in children) == 3, children
        assert sum(" serve " in c for c in children) == 1, children
        assert requests.get(f"http://127.0.0.1:{api}/readyz", timeout=HTTP_TIMEOUT).json()["status"] == "ready"
        assert requests.get(f"http://127.0.0.1:{metrics}/metrics", timeout=HTTP_TIMEOUT).status_code == 200
    finally:
        demo.send_signal(signal.SIGTERM)
        wait_exit(demo)
    assert "demo stopped" in log_path.read_text(errors="replace")


def _child_pids(pid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    pids.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return pids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_demo_stopped_while_it_starts_leaves_no_process_behind(cfg, tmp_path):
    """SIGTERM (or Ctrl-C) before the API answered left all eight children running under init."""
    import time

    api, mock, metrics = free_port(), free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": cfg.database_url, "ZEROTRIP_INSTANCE_PATH": str(tmp_path / "instance"),
           "PYTHONUNBUFFERED": "1", "ZEROTRIP_WORKERS": "1"}
    with open(tmp_path / "demo.log", "w") as log:
        demo = subprocess.Popen([sys.executable, "-m", "app.cli", "demo", "--api-port", str(api), "--mock-port",
                                 str(mock), "--metrics-port", str(metrics)], env=env, stdout=log, stderr=log)
    children: list[int] = []
    try:
        while len(children) < 2 and demo.poll() is None:  # the mock and the API's master are starting
            children = sorted(set(children) | set(_child_pids(demo.pid)))
            time.sleep(0.02)
    finally:
        demo.send_signal(signal.SIGTERM)
        wait_exit(demo)
    assert len(children) >= 2, (tmp_path / "demo.log").read_text(errors="replace")[-2000:]
    left = [pid for pid in children if _alive(pid)]
    assert not left, f"still running after the demo exited: {left}"
