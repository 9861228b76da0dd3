"""Real processes on real loopback ports: the API (`zerotrip serve`) and mock WeChat (`zerotrip mock-wechat`)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.ports import free_port
from tests.waiting import STALL_S, run, stop, wait_http


class Stack:
    def __init__(self, env: dict, api: str, mock: str):
        self.env, self.api, self.mock = env, api, mock

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = run([sys.executable, "-m", "app.cli", *args], env=self.env)
        if check and result.returncode != 0:
            raise AssertionError(f"zerotrip {' '.join(args)} failed: {result.stderr}")
        return result


@pytest.fixture
def stack(cfg, tmp_path):
    api_port, mock_port = free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": cfg.database_url, "WECHAT_API_BASE": f"http://127.0.0.1:{mock_port}",
           "ZEROTRIP_INSTANCE_PATH": str(tmp_path / "instance"), "PYTHONUNBUFFERED": "1",
           # calls between the processes wait as long as a test would (no spurious timeouts on a slow day)
           "ZEROTRIP_HTTP_TIMEOUT": str(STALL_S), "MOCK_WECHAT_PUSH_TIMEOUT": str(STALL_S)}
    logs = open(tmp_path / "servers.log", "w")  # noqa: SIM115
    mock = subprocess.Popen([sys.executable, "-m", "app.cli", "mock-wechat", "--port", str(mock_port)],
                            env=env, stdout=logs, stderr=logs)
    api = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(api_port), "--workers", "1"],
                           env=env, stdout=logs, stderr=logs)
    try:
        wait_http(f"http://127.0.0.1:{mock_port}/__mock__/messages", mock)
        wait_http(f"http://127.0.0.1:{api_port}/healthz", api)
        yield Stack(env, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{mock_port}")
    finally:
        for proc in (api, mock):
            stop(proc)
        logs.close()
    from tests.conftest import assert_clean

    assert_clean((tmp_path / "servers.log").read_text(encoding="utf-8", errors="replace"), "server logs")
