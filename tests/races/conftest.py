"""Two `zerotrip serve` processes on one database (and mock WeChat), started once per test process (package
scope started them once per file: pytest-xdist interleaves this directory's files with others').

Each race test fires ≥ 20 requests released together by a barrier, alternating between the two processes,
and asserts the exact outcome. No fixed timeouts: start-up is awaited while the process lives, and a request
fails only when its server sent nothing for 120 s. The database is emptied before each test by `cfg`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.conftest import free_port

QUIET = 120  # seconds without a byte from the server before a request counts as hung


def wait_ready(url: str, proc: subprocess.Popen) -> None:
    """Poll `url` for as long as the process is alive (a slow machine only makes this slower)."""
    while proc.poll() is None:
        try:
            if requests.get(url, timeout=QUIET).status_code == 200:  # not "any answer": only ours says 200 here
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"process exited before it was ready: {proc.args}")


class Servers:
    def __init__(self, apis: list[str], mock: str, env: dict, log_path):
        self.apis, self.mock, self.env, self.log_path = apis, mock, env, log_path

    def security_lines(self, rule: str, result: str = "refused") -> int:
        """How many security log lines both processes have written so far for `rule` with `result`."""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return text.count(f"security rule={rule} result={result} ")

    def burst(self, n: int, call) -> list[requests.Response]:
        """Run call(i, base_url) n times at once, request i on server i % 2; the responses in order of i."""
        barrier = threading.Barrier(n)

        def one(i: int) -> requests.Response:
            barrier.wait()
            return call(i, self.apis[i % len(self.apis)])

        with ThreadPoolExecutor(max_workers=n) as pool:
            return list(pool.map(one, range(n)))

    def cli(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "app.cli", *args], env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="session")
def servers(db_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("races")
    mock_port, ports = free_port(), [free_port(), free_port()]
    env = {**os.environ, "DATABASE_URL": db_url, "WECHAT_API_BASE": f"http://127.0.0.1:{mock_port}",
           "ZEROTRIP_INSTANCE_PATH": str(tmp / "instance"), "PYTHONUNBUFFERED": "1"}
    log_path = tmp / "servers.log"
    logs = open(log_path, "w")  # noqa: SIM115
    procs = [subprocess.Popen([sys.executable, "-m", "app.cli", "mock-wechat", "--port", str(mock_port)],
                              env=env, stdout=logs, stderr=logs)]
    procs += [subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(p)], env=env,
                               stdout=logs, stderr=logs) for p in ports]
    try:
        wait_ready(f"http://127.0.0.1:{mock_port}/__mock__/messages", procs[0])
        for port, proc in zip(ports, procs[1:], strict=True):
            wait_ready(f"http://127.0.0.1:{port}/healthz", proc)
        yield Servers([f"http://127.0.0.1:{p}" for p in ports], f"http://127.0.0.1:{mock_port}", env, log_path)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        logs.close()
    from tests.conftest import assert_clean

    text = log_path.read_text(encoding="utf-8", errors="replace")
    assert_clean(text, "server logs")
    assert "Traceback" not in text, text[-4000:]
