"""Helpers for the exchange tests: a department with an Ed25519 key registered through the CLI, signed calls
over HTTP, and a worker process whose progress the tests wait on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from flows.exchange import signing

PUSH_PATH = "/exchange/v1/registry/notify"
SEARCH_PATH = "/exchange/v1/registry/sync/search"


class Department:
    def __init__(self, cli, client_id: str, actions: str, purposes: dict | None = None, death_source=None,
                 expires="2030-12-31", extra=()):
        self.id, self.key = client_id, Ed25519PrivateKey.generate()
        self.key_id = f"{client_id}-k1"
        args = ["exchange", "client", "add", "--id", client_id, "--name", f"测试部门{client_id}",
                "--public-key", signing.public_key_text(self.key), "--key-id", self.key_id, "--actions", actions,
                "--purposes", json.dumps(purposes or {}), "--pia", "PIA-2026-001", "--agreement", "AGR-2026-001",
                "--agreement-expires", expires, "--contact", "data@example.gov.cn", *extra]
        if death_source:
            args += ["--death-source", death_source]
        result = cli(*args)
        assert result.exit_code == 0, result.output
        self.cli = cli

    def envelope(self, action: str, message: dict, message_id: str | None = None) -> tuple[str, bytes]:
        mid = message_id or uuid.uuid4().hex
        body = {"header": {"message_id": mid, "message_ts": "2026-12-04T08:00:00Z", "action": action,
                           "sender_id": self.id, "receiver_id": "taiyuan-civil-affairs"}, "message": message}
        return mid, json.dumps(body, ensure_ascii=False).encode()

    def post(self, client, path: str, body: bytes, mid: str, *, key=None, key_id=None, ts=None, drop=None,
             signature=None):
        headers = signing.signed_headers(self.id, key_id or self.key_id, key or self.key, "POST", path,
                                         int(time.time()) if ts is None else ts, mid, body)
        if signature:
            headers["X-ZT-Signature"] = signature
        if drop:
            headers.pop(drop)
        return client.post(path, data=body, headers=headers)

    def push(self, client, records: list[dict], message_id=None, **kw):
        mid, body = self.envelope("notify", {"transaction_id": "T1", "records": records}, message_id)
        return self.post(client, PUSH_PATH, body, mid, **kw)

    def search(self, client, dataset: str, purpose: str, numbers: list[str], fields=None, ref="CASE-1"):
        criteria = {"reg_type": dataset, "query_type": "idtype-value",
                    "authorize": {"purpose": {"code": purpose, "ref": ref}}}
        if fields is not None:
            criteria["fields"] = fields
        mid, body = self.envelope("search", {"transaction_id": "T2", "search_criteria": criteria, "search_request": [
            {"reference_id": f"R{i}", "query": {"type": "CN-ID", "value": n}} for i, n in enumerate(numbers)]})
        return self.post(client, SEARCH_PATH, body, mid)


def start_worker(cfg, tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": cfg.database_url}
    exe = Path(sys.executable).with_name("zerotrip")
    return subprocess.Popen([str(exe), "exchange", "worker", "--poll", "0.05"], env=env,
                            stdout=open(tmp_path / "worker.out", "w"), stderr=open(tmp_path / "worker.err", "w"))


def wait_applied(session, worker: subprocess.Popen, stall_seconds: float = 120.0) -> None:
    """Wait until no pushed record is pending; fail only when nothing moved for `stall_seconds`."""
    from app.models import ExchangeRecord

    last, moved_at = None, time.monotonic()
    while True:
        session.rollback()
        pending = session.scalar(select(func.count()).select_from(ExchangeRecord)
                                 .where(ExchangeRecord.state == "pending"))
        if pending == 0:
            return
        assert worker.poll() is None, "the worker exited"
        if pending != last:
            last, moved_at = pending, time.monotonic()
        assert time.monotonic() - moved_at < stall_seconds, f"{pending} records pending and nothing moved"
        time.sleep(0.05)
