"""Reliability: many messages, a mock failing ~30% of calls, dispatchers SIGKILLed mid-run; and two
dispatchers on PostgreSQL over the same rows. Counted at the mock: nothing lost, nothing delivered twice,
no one-time grant spent twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from app.db import make_engine, utcnow
from app.models import Account, OutboxMessage, Subscription
from app.models.ids import new_id
from notifications import outbox as ob
from notifications.templates import template_for

WORKER = Path(__file__).with_name("dispatch_worker.py")
ROOT = Path(__file__).resolve().parents[2]
N = int(os.environ.get("RELIABILITY_N", "10000"))
# On PostgreSQL the SIGKILL run uses fewer rows (CI time); the two-dispatcher test there uses all N.
N_KILL_PG = int(os.environ.get("RELIABILITY_N_PG", "3000"))
# 30% of subscribe/send calls fail: -1, 45011, 42001 (every token expires), client timeouts, dropped connections.
FAULTS = {"errors": {"-1": 0.14, "45011": 0.08, "42001": 0.04}, "timeout_rate": 0.02, "drop_rate": 0.02,
          "timeout_sleep_s": 0.35, "seed": 20261127}


def seed(cfg, wechat, n: int) -> dict[str, str]:
    """n accounts with one one-time grant each (at the mock and in our count), one message each."""
    from mock_wechat.login import register_user

    template = template_for("identity_bind_attempt")
    store = wechat.app.extensions["mock_wechat"]
    accounts = [{"id": new_id(), "openid": f"o_rel_{i:022d}", "kind": "citizen", "created_at": utcnow()}
                for i in range(n)]
    with store.lock:
        for a in accounts:
            register_user(store, a["openid"])
            store.state.grants[(a["openid"], template.id)] = 1
    now = utcnow()
    with make_engine(cfg.database_url).begin() as conn:
        conn.execute(insert(Account), accounts)
        conn.execute(insert(Subscription), [{"account_id": a["id"], "template_id": template.id, "status": "accept",
                                             "remaining": 1, "updated_at": now} for a in accounts])
        conn.execute(insert(OutboxMessage), [
            {"id": new_id(), "idempotency_key": f"rel:{a['id']}", "kind": "identity_bind_attempt",
             "account_id": a["id"], "data": {}, "state": "pending", "attempts": 0, "next_attempt_at": now,
             "created_at": now} for a in accounts])
    return {a["id"]: a["openid"] for a in accounts}


def start_worker(cfg, name: str, extra_env: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": cfg.database_url, "WECHAT_API_BASE": cfg.wechat_api_base,
           "SMS_API_BASE": "", "DISPATCH_RETRY_BASE_S": "0.05", "DISPATCH_RETRY_CAP_S": "0.5",
           "DISPATCH_LEASE_S": "3", "DISPATCH_MAX_ATTEMPTS": "40", "DISPATCH_BATCH": "50",
           "DISPATCH_CONCURRENCY": "8", "DISPATCH_QUIET_HOURS": "off", "WORKER_HTTP_TIMEOUT": "0.2",
           "PYTHONPATH": str(ROOT), **(extra_env or {})}
    return subprocess.Popen([sys.executable, str(WORKER), name], env=env, cwd=str(ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def states(cfg) -> Counter:
    with make_engine(cfg.database_url).connect() as conn:
        return Counter(dict(conn.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all()))


def wait_until_settled(cfg, timeout: float) -> Counter:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = states(cfg)
        if not any(counts.get(s) for s in ob.ACTIVE_STATES):
            return counts
        time.sleep(0.5)
    raise AssertionError(f"not settled in {timeout}s: {states(cfg)}")


def check_exactly_once(cfg, wechat, openids: dict[str, str]) -> Counter:
    template = template_for("identity_bind_attempt")
    store = wechat.app.extensions["mock_wechat"]
    with store.lock:
        delivered = Counter(m["touser"] for m in store.state.messages)
        msgids = {m["msgid"]: m["touser"] for m in store.state.messages}
        grants = {openid: store.state.grants.get((openid, template.id), 0) for openid in openids.values()}
    assert max(delivered.values()) == 1, "a message was delivered twice"
    with make_engine(cfg.database_url).connect() as conn:
        rows = conn.execute(select(OutboxMessage.account_id, OutboxMessage.state, OutboxMessage.provider_msgid)).all()
        remaining = dict(conn.execute(select(Subscription.account_id, Subscription.remaining)).all())
    final = Counter()
    for account_id, state, msgid in rows:
        openid = openids[account_id]
        final[state] += 1
        assert state in ("sent", "unknown", "dead"), state
        if state == "sent":
            assert msgids[msgid] == openid and delivered[openid] == 1
        if state == "dead":
            assert delivered[openid] == 0
        # each one-time grant spent at most once, at the mock and in our count
        assert grants[openid] == 1 - delivered[openid]
        assert remaining[account_id] == (0 if state in ("sent", "unknown") else 1)
    assert sum(final.values()) == len(openids)
    return final


@pytest.mark.slow
def test_faults_and_sigkill_lose_nothing_and_deliver_nothing_twice(cfg, wechat):
    n = N_KILL_PG if cfg.database_url.startswith("postgresql") else N
    openids = seed(cfg, wechat, n)
    wechat.faults(FAULTS)
    workers = [start_worker(cfg, "w1"), start_worker(cfg, "w2"), start_worker(cfg, "w3")]
    try:
        for kill_at in (2.0, 3.0):
            time.sleep(kill_at)
            assert workers[0].poll() is None, "worker died on its own"
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=10)
            workers[0] = start_worker(cfg, "w1-again")
        wait_until_settled(cfg, timeout=150)
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(timeout=30)
    final = check_exactly_once(cfg, wechat, openids)
    assert final["sent"] >= n - 100, final
    print(f"\nreliability: {dict(final)}")


@pytest.mark.slow
def test_two_dispatchers_on_postgresql_send_each_row_exactly_once(cfg, wechat):
    if not cfg.database_url.startswith("postgresql"):
        pytest.skip("FOR UPDATE SKIP LOCKED needs PostgreSQL (run with DATABASE_URL=postgresql+psycopg://…)")
    openids = seed(cfg, wechat, N)
    calm = {"WORKER_HTTP_TIMEOUT": "5", "DISPATCH_LEASE_S": "30"}  # no faults: no ambiguous timeouts either
    workers = [start_worker(cfg, "pg1", calm), start_worker(cfg, "pg2", calm)]
    try:
        wait_until_settled(cfg, timeout=150)
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        outputs = [w.communicate(timeout=30)[0] for w in workers]
    final = check_exactly_once(cfg, wechat, openids)
    assert final == Counter({"sent": N})
    import json

    per_worker = [json.loads(o.decode().strip().splitlines()[-1]).get("sent", 0) for o in outputs]
    assert sum(per_worker) == N and min(per_worker) > 0, per_worker
