"""Real processes on real loopback ports: the API (`zerotrip serve`) and mock WeChat (`zerotrip mock-wechat`)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.ports import free_port
from tests.waiting import STALL_S, run, stop, wait_http


class Stack:
    def __init__(self, env: dict, api: str, mock: str, log_path: Path | None = None, log_from: int = 0):
        self.env, self.api, self.mock = env, api, mock
        self.log_path, self.log_from = log_path, log_from

    def server_logs(self) -> str:
        """What the API and mock WeChat processes logged during this test."""
        with open(self.log_path, "rb") as f:
            f.seek(self.log_from)
            return f.read().decode("utf-8", errors="replace")

    def cli(self, *args: str, check: bool = True, process: bool = False) -> subprocess.CompletedProcess:
        """`zerotrip …` against the stack's database and mock: in this process by default (click's runner with the
        stack's environment: the same command line, exit code and output, without a second of interpreter start
        per call), or as its own process with `process=True` (where separate processes are the point)."""
        if process:
            result = run([sys.executable, "-m", "app.cli", *args], env=self.env)
        else:
            from click.testing import CliRunner

            from app.cli import cli as zerotrip

            done = CliRunner().invoke(zerotrip, list(args), env=self.env, catch_exceptions=False)
            result = subprocess.CompletedProcess(["zerotrip", *args], done.exit_code, done.stdout, done.stderr)
        if check and result.returncode != 0:
            raise AssertionError(f"zerotrip {' '.join(args)} failed: {result.stderr}")
        return result


@contextmanager
def servers(database_url: str, folder: Path) -> Iterator[Stack]:
    """`zerotrip serve` (gunicorn, one worker) and `zerotrip mock-wechat` on free loopback ports, logging into
    `folder/servers.log`; their logs are checked for secrets when they stop."""
    api_port, mock_port = free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "WECHAT_API_BASE": f"http://127.0.0.1:{mock_port}",
           "ZEROTRIP_INSTANCE_PATH": str(folder / "instance"), "PYTHONUNBUFFERED": "1",
           # calls between the processes wait as long as a test would (no spurious timeouts on a slow day)
           "ZEROTRIP_HTTP_TIMEOUT": str(STALL_S), "MOCK_WECHAT_PUSH_TIMEOUT": str(STALL_S)}
    log_path = folder / "servers.log"
    logs = open(log_path, "w")  # noqa: SIM115
    mock = subprocess.Popen([sys.executable, "-m", "app.cli", "mock-wechat", "--port", str(mock_port)],
                            env=env, stdout=logs, stderr=logs)
    api = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(api_port), "--workers", "1"],
                           env=env, stdout=logs, stderr=logs)
    try:
        wait_http(f"http://127.0.0.1:{mock_port}/__mock__/messages", mock)
        wait_http(f"http://127.0.0.1:{api_port}/healthz", api)
        yield Stack(env, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{mock_port}", log_path)
    finally:
        for proc in (api, mock):
            stop(proc)
        logs.close()
    from tests.conftest import assert_clean

    assert_clean(log_path.read_text(encoding="utf-8", errors="replace"), "server logs")


@pytest.fixture(scope="session")
def shared_servers(db_url, session_dir):
    """One API and one mock WeChat per test process, shared by the tests that use `stack` (starting the two
    processes cost seconds a test). Nothing a test leaves behind reaches the next: the database is emptied per
    test (`cfg`), the mock is reset, the audit anchors of the emptied chain are removed. A test that changes the
    API process itself (approved parameters live in its memory) takes `own_stack` instead."""
    folder = session_dir / "stack"
    folder.mkdir(exist_ok=True)
    with servers(db_url, folder) as shared:
        yield shared


@pytest.fixture
def stack(cfg, shared_servers):
    import requests

    assert requests.post(f"{shared_servers.mock}/__mock__/reset", timeout=STALL_S).status_code == 200
    instance = Path(shared_servers.env["ZEROTRIP_INSTANCE_PATH"])
    for anchors in instance.glob("*anchors*.jsonl"):  # they belong to the chain of the database just emptied
        anchors.unlink()
    yield Stack(dict(shared_servers.env), shared_servers.api, shared_servers.mock, shared_servers.log_path,
                shared_servers.log_path.stat().st_size)


@pytest.fixture
def own_stack(cfg, tmp_path):
    """An API and a mock WeChat of this test's own."""
    with servers(cfg.database_url, tmp_path) as own:
        yield own
