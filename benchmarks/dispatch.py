"""Dispatcher throughput against mock WeChat, with the baseline of a bare HTTP client.

    .venv/bin/python benchmarks/dispatch.py [--messages 5000] [--workers 1,4]

Starts mock WeChat (`python -m mock_wechat`) on a free loopback port, a fresh SQLite database in a
temporary directory (or DATABASE_URL if set), and N outbox rows (a long-term template, one account, so the
mock's grant counter is not the subject). Prints messages/second for: a bare `requests.Session` posting the
same payloads (1 thread, and as many threads as the largest dispatcher count), then the dispatcher with
one and with four processes (each process: 4 sending threads), and the ratio to the bare client.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
KIND = "payment_started"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_mock(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "mock_wechat", "--port", str(port)], cwd=str(ROOT),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import requests

    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{port}/__mock__/templates", timeout=0.5)
            return proc
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit("mock WeChat did not start")


def seed(cfg, n: int, openid: str) -> None:
    from sqlalchemy import delete, insert

    from app.db import make_engine, utcnow
    from app.models import Account, InboxItem, OutboxMessage, Subscription
    from app.models.ids import new_id
    from notifications.templates import template_for

    now = utcnow()
    with make_engine(cfg.database_url).begin() as conn:
        for table in (InboxItem, OutboxMessage, Subscription, Account):
            conn.execute(delete(table))
        conn.execute(insert(Account).values(id="bench", openid=openid, kind="citizen", created_at=now))
        conn.execute(insert(Subscription).values(account_id="bench", template_id=template_for(KIND).id,
                                                 status="accept", remaining=0, updated_at=now))
        conn.execute(insert(OutboxMessage), [
            {"id": new_id(), "idempotency_key": f"bench:{i}", "kind": KIND, "account_id": "bench",
             "data": {"program": "elderly_allowance", "monthly_amount": "100.00", "paid_on": "2026-12-10"},
             "state": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now} for i in range(n)])


def payload(cfg, openid: str) -> tuple[str, dict]:
    from sqlalchemy import select

    from app.db import session_factory
    from app.models import OutboxMessage
    from notifications.templates import render

    with session_factory(cfg)() as s:
        row = s.execute(select(OutboxMessage).limit(1)).scalar_one()
        m = render(s, row)
    return m.template.id, {"touser": openid, "template_id": m.template.id, "data": m.wechat_data, "page": m.page}


def bare(cfg, body: dict, n: int, threads: int) -> float:
    import requests

    from notifications.wechat_client import WeChatClient

    token = WeChatClient(cfg).access_token()
    url = f"{cfg.wechat_api_base}/cgi-bin/message/subscribe/send"
    data = json.dumps(body, ensure_ascii=False).encode()
    sessions = [requests.Session() for _ in range(threads)]

    def run(k: int) -> None:
        s = sessions[k]
        for _ in range(n // threads):
            r = s.post(url, params={"access_token": token}, data=data,
                       headers={"Content-Type": "application/json"}, timeout=5)
            assert r.json().get("errcode", 0) == 0, r.text

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, range(threads)))
    return (n // threads * threads) / (time.perf_counter() - t0)


def _worker(name: str, go, done) -> None:
    from app.config import load_config
    from notifications.dispatcher import DispatchSettings, dispatch_once

    cfg = load_config({})
    settings = DispatchSettings.from_config(cfg)
    settings.quiet_hours = None
    go.wait()
    counts = dispatch_once(cfg, worker_id=name, settings=settings)
    done.put(dict(counts))


def dispatchers(cfg, n: int, workers: int) -> tuple[float, dict]:
    from app.db import dispose_engines

    dispose_engines()
    ctx = mp.get_context("fork")
    go, done = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(f"bench{i}", go, done)) for i in range(workers)]
    for p in procs:
        p.start()
    time.sleep(1.0)  # let every process import and connect before the clock starts
    t0 = time.perf_counter()
    go.set()
    results = [done.get(timeout=600) for _ in procs]
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join()
    sent = sum(r.get("sent", 0) for r in results)
    assert sent == n, results
    return n / elapsed, {"per_process_sent": [r.get("sent", 0) for r in results]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--workers", default="1,4")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    tmp = tempfile.mkdtemp(prefix="zt-bench-")
    port = free_port()
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.db")
    os.environ.setdefault("ZEROTRIP_INSTANCE_PATH", tmp)
    os.environ.setdefault("ZEROTRIP_SIGNING_KEY", os.urandom(24).hex())
    os.environ.setdefault("ZEROTRIP_DATA_KEY", os.urandom(24).hex())
    os.environ.update({"WECHAT_API_BASE": f"http://127.0.0.1:{port}", "SMS_API_BASE": "",
                       "DISPATCH_QUIET_HOURS": "off", "DISPATCH_CONCURRENCY": "4"})
    from app.config import load_config
    from app.migrate import upgrade

    cfg = load_config({"testing": True})
    upgrade(cfg.database_url)
    mock = start_mock(port)
    try:
        import requests

        openid = requests.post(f"{cfg.wechat_api_base}/__mock__/login-code", json={"openid": "o_bench_0000000000000000000001"},
                               timeout=5).json()["openid"]
        seed(cfg, 1, openid)
        _tid, body = payload(cfg, openid)
        n = args.messages
        base1 = bare(cfg, body, n, 1)
        baseN = bare(cfg, body, n, max(counts))
        print(f"messages={n} database={cfg.database_url.split(':')[0]} mock=werkzeug threaded (subprocess)")
        print(f"bare requests.Session, 1 thread:            {base1:8.0f} msg/s")
        print(f"bare requests.Session, {max(counts)} threads:           {baseN:8.0f} msg/s")
        for w in counts:
            seed(cfg, n, openid)
            rate, info = dispatchers(cfg, n, w)
            print(f"dispatcher x{w} (4 send threads each):      {rate:8.0f} msg/s  "
                  f"= {rate / base1:.0%} of bare 1-thread, {rate / baseN:.0%} of bare {max(counts)}-thread  {info}")
    finally:
        mock.terminate()
        mock.wait(timeout=10)


if __name__ == "__main__":
    main()
