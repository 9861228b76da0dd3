"""The data exchange against its baselines, each measured in the same run (the machine may be shared: read the
ratios, not the absolute numbers).

    python benchmarks/exchange.py [--people 120000] [--records 100000] [--seconds 30] [--database-url URL]

Set-up: a fresh database (SQLite in a temporary directory, or the given PostgreSQL database, which must be
empty), `zerotrip seed --people N`, four pushing departments and one asking department registered with the CLI,
the API under gunicorn (`zerotrip serve`) and a bare Flask app under the same gunicorn settings.

(a) RECORDS population-change records (hukou moves) pushed in batches of 1,000 by 4 senders in parallel, beside
    `zerotrip import hukou-moves` of the same rows (target ≥ 0.7×).
(b) one-ID sync searches, pre-signed (unique ids, timestamps inside the window), sent open-loop at a fixed
    200 req/s for SECONDS: p50/p99 (target p99 ≤ 50 ms); then the maximum rate at 16 connections (closed
    loop), beside the bare app's under the same server.
(c) one sync call with 1,000 IDs (median of 5; target ≤ 300 ms), beside a one-ID call.
(d) event-to-effect latency: deaths of residents with an active benefit pushed at 10 per second for SECONDS
    with `zerotrip exchange worker` running; latency = the record's applied_at − its created_at (p50/p99;
    target p99 ≤ 60 s), beside the push round trip.
"""

from __future__ import annotations

import argparse
import http.client as http_client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from sqlalchemy import text  # noqa: E402

from app.config import load_config  # noqa: E402
from app.crypto import cipher_for  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from flows.exchange import signing  # noqa: E402

BIN = Path(sys.executable).parent
BARE = "from flask import Flask, jsonify\napp = Flask(__name__)\n\n@app.post('/echo')\ndef echo():\n    return jsonify(ok=True)\n"
PURPOSES = {"medical_aid": {"legal_basis": "《社会救助暂行办法》第二十八条", "text": "医疗救助资格核验",
                            "fields": {"dibao_household": ["receiving", "since"]}}}


def zt(env, *args, capture=False):
    return subprocess.run([str(BIN / "zerotrip"), *args], env=env, check=True, cwd=ROOT, text=True,
                          stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str) -> None:
    for _ in range(1200):
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


class Dept:
    def __init__(self, env, cid: str, actions: str, **kw):
        self.id, self.key, self.kid = cid, Ed25519PrivateKey.generate(), f"{cid}-k"
        args = ["exchange", "client", "add", "--id", cid, "--name", cid, "--public-key",
                signing.public_key_text(self.key), "--key-id", self.kid, "--actions", actions, "--pia", "PIA-1",
                "--agreement", "AGR-1", "--agreement-expires", "2099-12-31", "--contact", "c",
                "--per-minute", "1000000", "--per-day", "100000000", "--purposes", json.dumps(kw.get("purposes", {}))]
        if kw.get("death_source"):
            args += ["--death-source", kw["death_source"]]
        zt(env, *args)

    def request(self, action: str, path: str, message: dict, ts: int | None = None) -> tuple[bytes, dict]:
        mid = uuid.uuid4().hex
        body = json.dumps({"header": {"message_id": mid, "action": action, "sender_id": self.id},
                           "message": message}, ensure_ascii=False).encode()
        return body, signing.signed_headers(self.id, self.kid, self.key, "POST", path,
                                            int(time.time()) if ts is None else ts, mid, body)


def search_message(numbers: list[str]) -> dict:
    return {"search_criteria": {"reg_type": "dibao_household", "query_type": "idtype-value",
                                "authorize": {"purpose": {"code": "medical_aid", "ref": "BENCH"}}},
            "search_request": [{"reference_id": f"R{i}", "query": {"type": "CN-ID", "value": n}}
                               for i, n in enumerate(numbers)]}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def reset_moves(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM hukou_moves"))
        conn.execute(text("DELETE FROM exchange_records WHERE dataset = 'hukou_moves'"))
        conn.execute(text("UPDATE residents SET hukou_local = :t"), {"t": True})


def _owner(number: str, numbers: list[str], _index={}) -> int:  # noqa: B006 - a per-run cache
    if not _index:
        _index.update({n: i % 4 for i, n in enumerate(numbers)})
    return _index[number]


def bench_a(env, engine, numbers, n_records, tmp: Path, api: str) -> None:
    rows = [(numbers[i % len(numbers)], f"2026-{1 + (i // len(numbers)) % 9:02d}-15", "out" if i % 2 else "in",
             "110105") for i in range(n_records)]
    csv_path = tmp / "moves.csv"
    with csv_path.open("w", encoding="utf-8") as f:
        f.write("id_number,move_date,direction,area_code\n")
        f.writelines(f"{a},{b},{c},{d}\n" for a, b, c, d in rows)
    reset_moves(engine)
    started = time.perf_counter()
    zt(env, "import", "hukou-moves", str(csv_path))
    base = time.perf_counter() - started
    reset_moves(engine)
    senders = [Dept(env, f"gongan{i}", "push") for i in range(4)]
    # each sender (a district's 公安 branch) reports its own residents: sender k has the residents i % 4 == k
    batches = []
    for k in range(4):
        own = [r for i, r in enumerate(rows) if (i % len(numbers)) % 4 == k]
        batches += [own[i:i + 1000] for i in range(0, len(own), 1000)]
    batches.sort(key=len, reverse=True)

    # the messages are built before the clock starts (a sender's own cost); each is signed when sent
    messages: dict[int, list[tuple[str, bytes]]] = {k: [] for k in range(4)}
    for j, batch in enumerate(batches):
        k = _owner(batch[0][0], numbers)
        records = [{"reference_id": f"M{j}-{x}", "dataset": "hukou_moves", "record": {
            "id_number": a, "move_date": b, "direction": c, "area_code": d}} for x, (a, b, c, d) in enumerate(batch)]
        mid = uuid.uuid4().hex
        messages[k].append((mid, json.dumps({"header": {"message_id": mid, "action": "notify",
                                                        "sender_id": senders[k].id},
                                             "message": {"records": records}}, ensure_ascii=False).encode()))

    def send(k: int) -> int:
        dept, done = senders[k], 0
        with requests.Session() as http:
            for mid, body in messages[k]:
                headers = signing.signed_headers(dept.id, dept.kid, dept.key, "POST", "/exchange/v1/registry/notify",
                                                 int(time.time()), mid, body)
                resp = http.post(api + "/exchange/v1/registry/notify", data=body, headers=headers, timeout=600)
                resp.raise_for_status()
                done += sum(r["status"] == "accepted" for r in resp.json()["message"]["results"])
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        accepted = sum(pool.map(send, range(4)))
    pushed = time.perf_counter() - started
    print(f"(a) import: {n_records / base:,.0f} rows/s; push (4 senders × batches of 1,000): "
          f"{n_records / pushed:,.0f} rows/s ({accepted:,} accepted); ratio {base / pushed:.2f}× (target ≥ 0.7)")


def bench_b(asker: Dept, numbers, seconds: int, api: str, bare: str) -> None:
    rate, n = 200, 200 * seconds
    t0 = int(time.time()) + 2
    planned = [(t0 + i / rate, asker.request("search", "/exchange/v1/registry/sync/search",
                                              search_message([numbers[i % len(numbers)]]), ts=int(t0 + i / rate)))
               for i in range(n)]
    latencies, errors = [], []
    local = threading.local()
    host, port = api.removeprefix("http://").split(":")

    def fire(item):
        # http.client on a kept-alive connection per thread: the load generator shares the two cores with the
        # server, and `requests` cost it ≈ 1.7 ms of CPU a call (35% of a core at 200 req/s)
        at, (body, headers) = item
        delay = at - time.time()
        if delay > 0:
            time.sleep(delay)
        http = getattr(local, "http", None) or http_client.HTTPConnection(host, int(port), timeout=60)
        local.http = http
        started = time.perf_counter()
        http.request("POST", "/exchange/v1/registry/sync/search", body=body, headers=headers)
        resp = http.getresponse()
        answer = resp.read()
        latencies.append((time.perf_counter() - started) * 1000)
        if resp.status != 200:
            errors.append(f"{resp.status}:{json.loads(answer).get('error_code', '')}"
                          if resp.getheader("Content-Type", "").startswith("application/json") else resp.status)

    cpu, wall = time.process_time(), time.time()
    with ThreadPoolExecutor(64) as pool:
        list(pool.map(fire, planned))
    cpu, wall = time.process_time() - cpu, time.time() - wall
    from collections import Counter

    print(f"(b) the load generator used {cpu / wall:.0%} of a core during the fixed rate ({cpu:.1f} s of CPU in "
          f"{wall:.1f} s)")

    print(f"(b) {rate} req/s for {seconds} s: p50 {pct(latencies, 50):.1f} ms, p99 {pct(latencies, 99):.1f} ms "
          f"(target ≤ 50), errors {len(errors)} {dict(Counter(errors))}")

    def closed_loop(url: str, make) -> float:
        stop, count = time.time() + min(seconds, 10), [0]
        lock = threading.Lock()

        def loop(_):
            with requests.Session() as http:
                while time.time() < stop:
                    body, headers = make()
                    http.post(url, data=body, headers=headers, timeout=60)
                    with lock:
                        count[0] += 1
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(loop, range(16)))
        return count[0] / min(seconds, 10)

    real = closed_loop(api + "/exchange/v1/registry/sync/search", lambda: asker.request(
        "search", "/exchange/v1/registry/sync/search", search_message([numbers[0]])))
    base = closed_loop(bare + "/echo", lambda: (b"{}", {"Content-Type": "application/json"}))
    print(f"(b) max rate at 16 connections: sync search {real:,.0f} req/s beside the bare app {base:,.0f} req/s "
          f"(ratio {real / base:.2f})")


def bench_c(asker: Dept, numbers, api: str) -> None:
    def timed(ids):
        body, headers = asker.request("search", "/exchange/v1/registry/sync/search", search_message(ids))
        started = time.perf_counter()
        resp = requests.post(api + "/exchange/v1/registry/sync/search", data=body, headers=headers, timeout=120)
        resp.raise_for_status()
        return (time.perf_counter() - started) * 1000
    many = statistics.median(timed(numbers[:1000]) for _ in range(5))
    one = statistics.median(timed(numbers[:1]) for _ in range(5))
    print(f"(c) one call with 1,000 IDs: {many:.0f} ms (target ≤ 300) beside one ID: {one:.1f} ms")


def bench_d(env, engine, numbers, resident_ids, seconds: int, api: str) -> None:
    police = Dept(env, "police-d", "push", death_source="public_security")
    n = 10 * seconds
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO benefits (id, program, resident_id, origin, tier, monthly_amount_fen, "
                          "start_month, state, created_at, updated_at) VALUES (:id, 'elderly_allowance', :r, "
                          "'application', '80-89', 5000, '2026-01', 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                     [{"id": uuid.uuid4().hex, "r": r} for r in resident_ids[-n:]])
    worker = subprocess.Popen([str(BIN / "zerotrip"), "exchange", "worker"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    round_trips = []
    try:
        with requests.Session() as http:
            t0 = time.time()
            for i, number in enumerate(numbers[-n:]):
                delay = t0 + i / 10 - time.time()
                if delay > 0:
                    time.sleep(delay)
                body, headers = police.request("notify", "/exchange/v1/registry/notify", {"records": [
                    {"reference_id": f"D{i}", "dataset": "deaths",
                     "record": {"id_number": number, "death_date": "2026-11-01", "source": "public_security"}}]})
                started = time.perf_counter()
                http.post(api + "/exchange/v1/registry/notify", data=body, headers=headers, timeout=60).raise_for_status()
                round_trips.append((time.perf_counter() - started) * 1000)
        last, moved = None, time.monotonic()
        while True:
            with engine.connect() as conn:
                pending = conn.execute(text("SELECT COUNT(*) FROM exchange_records WHERE state = 'pending'")).scalar()
            if not pending:
                break
            if pending != last:
                last, moved = pending, time.monotonic()
            if time.monotonic() - moved > 120:
                raise SystemExit("the worker made no progress for 120 s")
            time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT created_at, applied_at FROM exchange_records WHERE dataset = 'deaths'")).all()
        stopped = conn.execute(text("SELECT COUNT(*) FROM benefits WHERE state = 'stopped'")).scalar()

    def parse(v):
        from datetime import datetime
        return v if not isinstance(v, str) else datetime.fromisoformat(v)
    lat = [(parse(b) - parse(a)).total_seconds() for a, b in rows if b is not None]
    print(f"(d) deaths at 10/s for {seconds} s: event-to-effect p50 {pct(lat, 50):.2f} s, p99 {pct(lat, 99):.2f} s "
          f"(target ≤ 60), {stopped} benefits stopped; push round trip p50 {pct(round_trips, 50):.1f} ms")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--people", type=int, default=120_000)
    p.add_argument("--records", type=int, default=100_000)
    p.add_argument("--seconds", type=int, default=30)
    p.add_argument("--database-url", default=None)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--only", default="abcd")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="zt-exchange-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    env = {**os.environ, "DATABASE_URL": url, "ZEROTRIP_INSTANCE_PATH": str(tmp / "instance")}
    env.setdefault("ZEROTRIP_DATA_KEY", "YmVuY2gtZGF0YS1rZXktMDEyMzQ1Njc4OWFiY2RlZjAx")
    env.setdefault("ZEROTRIP_SIGNING_KEY", "bench-signing-key-0123456789abcdef0123456789")
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "ZEROTRIP_INSTANCE_PATH", "ZEROTRIP_DATA_KEY",
                                           "ZEROTRIP_SIGNING_KEY")})
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        if conn.execute(text("SELECT COUNT(*) FROM residents")).scalar():
            raise SystemExit("the database is not empty")
    print(f"database {engine.dialect.name}; seeding {args.people:,} residents …", flush=True)
    zt(env, "seed", "--people", str(args.people))
    cfg = load_config({"database_url": url})
    cipher = cipher_for(cfg)
    with engine.connect() as conn:
        people = conn.execute(text("SELECT id, id_enc FROM residents WHERE death_date IS NULL ORDER BY id")).all()
    numbers = [cipher.decrypt(enc) for _, enc in people]
    resident_ids = [rid for rid, _ in people]
    port, bare_port = free_port(), free_port()
    (tmp / "bare_app.py").write_text(BARE)
    api = subprocess.Popen([str(BIN / "zerotrip"), "serve", "--port", str(port), "--workers", str(args.workers),
                            "--metrics-port", "0"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    bare = subprocess.Popen([str(BIN / "gunicorn"), "-k", "gthread", "-w", str(args.workers), "--threads", "4",
                             "-b", f"127.0.0.1:{bare_port}", "--chdir", str(tmp), "bare_app:app"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api_url, bare_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
    try:
        wait_up(api_url + "/healthz")
        wait_up(bare_url + "/")
        asker = Dept(env, "ybj", "search", purposes=PURPOSES)
        if "a" in args.only:
            bench_a(env, engine, numbers[: -10 * args.seconds], args.records, tmp, api_url)
        if "b" in args.only:
            bench_b(asker, numbers, args.seconds, api_url, bare_url)
        if "c" in args.only:
            bench_c(asker, numbers, api_url)
        if "d" in args.only:
            bench_d(env, engine, numbers, resident_ids, args.seconds, api_url)
    finally:
        for proc in (api, bare):
            proc.terminate()
            proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
