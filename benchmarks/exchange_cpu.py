"""CPU per request of the data exchange in one process, beside the bare Flask app and `zerotrip import
hukou-moves` — steadier than benchmarks/exchange.py (gunicorn + HTTP load) on a shared machine.

    python benchmarks/exchange_cpu.py                    # SQLite in a temporary directory
    PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/zt_bench python benchmarks/exchange_cpu.py   # emptied first
    ROOT=/path/to/other/checkout python benchmarks/exchange_cpu.py    # the same measurement of another tree (A/B)

Set-up as benchmarks/exchange.py prepares it (smaller): PEOPLE synthetic residents (`seed_city`, default
20,000), every tenth with an active 低保 benefit, one asking department (`medical_aid` on `dibao_household`)
and four pushing 公安 branches registered with `flows.exchange.clients.register`. The production app
(`create_app` with the config `zerotrip serve` builds) and `benchmarks/bare_app` are called as WSGI callables,
without a server, with requests signed before the clock starts (a sender's own cost):

- search: one-ID `POST /exchange/v1/registry/sync/search`, a unique message id each (SEARCHES per pass);
- push: `POST /exchange/v1/registry/notify` of 1,000 new hukou moves each (PUSHES messages per pass), rotating
  over the four senders; CPU per record;
- import: `flows.imports.partner.run` (what `zerotrip import hukou-moves` runs) of as many new rows, per row;
- bare: `GET /bare` of the bare app.

CPU time (`time.process_time`) per request or record, median of PASSES passes. On PostgreSQL the database
server's CPU is printed beside it (utime + stime of this database's client backends, from /proc), since the
server shares the machine's two cores with the app.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(os.environ.get("ROOT") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

PEOPLE = int(os.environ.get("PEOPLE", "20000"))
PASSES = int(os.environ.get("PASSES", "5"))
SEARCHES = int(os.environ.get("SEARCHES", "1000"))
PUSHES = int(os.environ.get("PUSHES", "5"))
BATCH = 1000
SEARCH_PATH, NOTIFY_PATH = "/exchange/v1/registry/sync/search", "/exchange/v1/registry/notify"
PURPOSES = {"medical_aid": {"legal_basis": "《社会救助暂行办法》第二十八条", "text": "医疗救助资格核验",
                            "fields": {"dibao_household": ["receiving", "since"]}}}
TICK = os.sysconf("SC_CLK_TCK")


def call(wsgi, environ, body: bytes = b"") -> bytes:
    statuses: list[str] = []
    environ = dict(environ)
    environ["wsgi.input"] = io.BytesIO(body)
    out = wsgi(environ, lambda status, headers, exc_info=None: statuses.append(status))
    text = b"".join(out)
    getattr(out, "close", lambda: None)()
    assert statuses[0].startswith("200"), (statuses, text[:300])
    return text


class Dept:
    def __init__(self, cid: str):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        self.id, self.kid, self.key = cid, f"{cid}-k", Ed25519PrivateKey.generate()

    def register(self, session, actions: list[str], purposes: dict) -> None:
        from flows.exchange import clients, signing

        clients.register(session, client_id=self.id, name=self.id, public_key=signing.public_key_text(self.key),
                         key_id=self.kid, actions=actions, purposes=purposes, pia_ref="PIA-1", agreement_ref="AGR-1",
                         agreement_expires=date(2099, 12, 31), contact="c", per_minute=10**6, per_day=10**8)

    def environ(self, action: str, path: str, message: dict) -> tuple[dict, bytes]:
        from werkzeug.test import EnvironBuilder

        from flows.exchange import signing

        mid = uuid.uuid4().hex
        body = json.dumps({"header": {"message_id": mid, "action": action, "sender_id": self.id},
                           "message": message}, ensure_ascii=False).encode()
        headers = signing.signed_headers(self.id, self.kid, self.key, "POST", path, int(time.time()), mid, body)
        environ = EnvironBuilder(path=path, method="POST", data=body, headers=headers).get_environ()
        return environ, body


def search_message(number: str) -> dict:
    return {"search_criteria": {"reg_type": "dibao_household", "query_type": "idtype-value",
                                "authorize": {"purpose": {"code": "medical_aid", "ref": "BENCH"}}},
            "search_request": [{"reference_id": "R0", "query": {"type": "CN-ID", "value": number}}]}


class Moves:
    """New hukou moves, never pushed or imported before: (resident, date) walks the residents, then the days."""

    def __init__(self, numbers: list[str]):
        self.numbers, self.next = numbers, 0

    def take(self, count: int) -> list[tuple[str, str, str, str, str]]:
        out = []
        for j in range(self.next, self.next + count):
            n, day = self.numbers[j % len(self.numbers)], j // len(self.numbers)
            out.append((f"M{j}", n, (date(2020, 1, 1) + timedelta(days=day)).isoformat(),
                        "out" if day % 2 else "in", "110105"))
        self.next += count
        return out


def push_message(rows) -> dict:
    return {"records": [{"reference_id": ref, "dataset": "hukou_moves", "record": {
        "id_number": n, "move_date": d, "direction": c, "area_code": a}} for ref, n, d, c, a in rows]}


class ServerCpu:
    """CPU seconds of the PostgreSQL backends serving this database (0 on SQLite: the engine is in process)."""

    def __init__(self, url: str):
        self.conn = None
        if url.startswith("postgresql"):
            import psycopg

            self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)

    def __call__(self) -> float:
        if self.conn is None:
            return 0.0
        pids = [p for (p,) in self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'"
            " AND pid <> pg_backend_pid()")]
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return total / TICK


def prepare(url: str, tmp: Path):
    import api as bench
    from sqlalchemy import insert, text

    from app.config import load_config
    from app.crypto import cipher_for
    from app.db import make_engine, session_scope, utcnow
    from app.migrate import upgrade
    from app.models import Benefit
    from app.models.ids import new_id
    from flows.synthetic_city import seed_city

    if url.startswith("postgresql"):
        bench.reset_postgresql(url)
    upgrade(url)
    cfg = load_config({"database_url": url, "instance_path": str(tmp), "signing_key": bench.TEST_SIGNING_KEY,
                       "data_key": bench.TEST_DATA_KEY, "testing": True})
    seed_city(cfg, PEOPLE)
    engine, cipher = make_engine(url), cipher_for(cfg)
    with engine.connect() as conn:
        people = conn.execute(text("SELECT id, id_enc FROM residents WHERE death_date IS NULL ORDER BY id")).all()
    numbers = [cipher.decrypt(enc) for _, enc in people]
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(insert(Benefit.__table__), [
            {"id": new_id(), "program": "dibao", "resident_id": rid, "origin": "application", "tier": "A",
             "monthly_amount_fen": 50000, "start_month": "2025-03", "state": "active", "created_at": now,
             "updated_at": now} for rid, _ in people[::10]])
    asker, senders = Dept("ybj"), [Dept(f"gongan{i}") for i in range(4)]
    with session_scope(cfg) as session:
        asker.register(session, ["search"], PURPOSES)
        for sender in senders:
            sender.register(session, ["push"], {})
    if url.startswith("postgresql"):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    return cfg, numbers, asker, senders


def main() -> None:
    import api as bench

    from app.db import dispose_engines
    from flows.imports import hukou_moves, partner

    tmp = Path(tempfile.mkdtemp(prefix="zt-bench-exchange-cpu-"))
    url = os.environ.get("PG_URL") or f"sqlite:///{tmp / 'bench.db'}"
    cfg, numbers, asker, senders = prepare(url, tmp)
    dispose_engines()
    os.environ.update(bench.server_env(url, tmp))
    from app.cli.serve_cmd import prepare_metrics_dir, ready_config

    prepare_metrics_dir()
    import bare_app
    from werkzeug.test import EnvironBuilder

    from app import create_app

    api = create_app(ready_config())
    import app as app_package

    if hasattr(app_package, "freeze_startup_objects") and not os.environ.get("NO_FREEZE"):
        app_package.freeze_startup_objects()  # as a `zerotrip serve` worker does once the app is built
    moves, server_cpu = Moves(numbers), ServerCpu(url)
    bare_environ = EnvironBuilder(path="/bare").get_environ()
    searched = [0]

    def searches(count: int) -> list:
        start, searched[0] = searched[0], searched[0] + count
        return [asker.environ("search", SEARCH_PATH, search_message(numbers[(start + i) * 7 % len(numbers)]))
                for i in range(count)]

    def pushes(count: int) -> list:
        return [senders[i % 4].environ("notify", NOTIFY_PATH, push_message(moves.take(BATCH))) for i in range(count)]

    def import_file(rows: int) -> Path:
        path = tmp / f"moves-{moves.next}.csv"
        with path.open("w", encoding="utf-8") as f:
            f.write("id_number,move_date,direction,area_code\n")
            f.writelines(f"{n},{d},{c},{a}\n" for _ref, n, d, c, a in moves.take(rows))
        return path

    # warm-up: imports, pools, compiled statements; and a check that the answers are what we measure
    for environ, body in searches(200):
        answer = json.loads(call(api, environ, body))
    assert answer["message"]["search_response"][0]["status"] == "succ", answer
    for environ, body in pushes(2):
        answer = json.loads(call(api, environ, body))
    assert all(r["status"] == "accepted" for r in answer["message"]["results"]), answer["message"]["results"][:3]
    partner.run(cfg, hukou_moves.SPEC, import_file(BATCH))
    for _ in range(300):
        call(bare_app.application, bare_environ)

    if os.environ.get("PROFILE"):
        return profile(os.environ["PROFILE"], api, searches, pushes, url)
    cpu: dict[str, list[float]] = {}
    db: dict[str, list[float]] = {}

    def timed(name: str, units: int, work) -> None:
        server, started = server_cpu(), time.process_time()
        work()
        cpu.setdefault(name, []).append((time.process_time() - started) / units * 1e6)
        db.setdefault(name, []).append((server_cpu() - server) / units * 1e6)

    for _ in range(PASSES):
        timed("bare", 3000, lambda: [call(bare_app.application, bare_environ) for _ in range(3000)])
        prepared = searches(SEARCHES)
        timed("search", SEARCHES, lambda: [call(api, e, b) for e, b in prepared])  # noqa: B023
        prepared = pushes(PUSHES)
        timed("push", PUSHES * BATCH, lambda: [call(api, e, b) for e, b in prepared])  # noqa: B023
        path = import_file(PUSHES * BATCH)
        timed("import", PUSHES * BATCH, lambda: partner.run(cfg, hukou_moves.SPEC, path))  # noqa: B023
    med = {name: statistics.median(v) for name, v in cpu.items()}
    dbm = {name: statistics.median(v) for name, v in db.items()}
    server = url.startswith("postgresql")

    def fig(name: str) -> str:
        return f"{med[name]:,.0f}" + (f" (+{dbm[name]:,.0f} server)" if server else "")

    print(f"{ROOT.name} ({url.split(':')[0]}, {PEOPLE:,} people): CPU µs, median of {PASSES} passes: "
          f"bare {med['bare']:.0f} per request; one-ID search {fig('search')} per request "
          f"({SEARCHES:,} a pass); push {fig('push')} per record ({PUSHES} × {BATCH:,} a pass); "
          f"import {fig('import')} per row; push/import "
          f"{(med['import'] + dbm['import']) / (med['push'] + dbm['push']):.2f}×; "
          f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def profile(kind: str, api, searches, pushes, url: str) -> None:
    """PROFILE=search|push: the statements of one request, then cProfile of a pass (tottime and cumulative)."""
    import cProfile
    import pstats

    from sqlalchemy import event

    from app.db import make_engine

    prepared = searches(SEARCHES) if kind == "search" else pushes(PUSHES)
    statements: list[str] = []

    def log(conn, cursor, statement, parameters, context, executemany):
        statements.append(("many " if executemany else "") + " ".join(statement.split())[:160])
    engine = make_engine(url)
    event.listen(engine, "before_cursor_execute", log)
    call(api, *prepared[0])
    event.remove(engine, "before_cursor_execute", log)
    print(f"{len(statements)} statements in one {kind} request:", *statements, sep="\n  ")
    import gc

    collected: dict[int, list[float]] = {}

    def clock(phase, info):  # the collector's time, by generation (cProfile blames whatever function ran)
        if phase == "start":
            clock.started = time.process_time()
        else:
            collected.setdefault(info["generation"], []).append(time.process_time() - clock.started)
    gc.callbacks.append(clock)
    started = time.process_time()
    for environ, body in prepared[1:]:
        call(api, environ, body)
    spent = time.process_time() - started
    gc.callbacks.remove(clock)
    print(f"without the profiler: {spent / (len(prepared) - 1) * 1e6:,.0f} µs per request, of which the garbage "
          "collector " + ", ".join(f"gen{g} {len(v)}× {sum(v) / (len(prepared) - 1) * 1e6:,.0f} µs"
                                   for g, v in sorted(collected.items())) + f"; {len(gc.get_objects()):,} objects")
    prepared = searches(SEARCHES) if kind == "search" else pushes(PUSHES)
    profiler = cProfile.Profile(time.process_time)  # CPU, not wall time (the machine is shared)
    profiler.enable()
    for environ, body in prepared:
        call(api, environ, body)
    profiler.disable()
    for order in ("tottime", "cumulative"):
        pstats.Stats(profiler).sort_stats(order).print_stats(45)


if __name__ == "__main__":
    main()
