"""The workbench's two heaviest pages over HTTP, beside plain Core SELECTs of the same data in the same run.

    python benchmarks/workbench.py [--people 1000000] [--tasks 200000] [--streets 100] [--database-url URL]

Set-up: a fresh database (SQLite in a temporary directory, or the given PostgreSQL database, whose schema is
dropped first), `zerotrip seed --people N`, TASKS open tasks spread over STREETS streets (kinds, due dates and
claims mixed; loaded with one executemany), a reviewer of the busiest street signed in through the API, a
4-person 低保 case started in that street, and the API under `zerotrip serve` (production settings).

Timed on loopback with keep-alive (one requests.Session), 5 warm-up calls then 100 sequential:
(a) the inbox's first page with filters (`kind=review&overdue=1`) and the badge counts (`/inbox/counts`): one
    sample = both calls;
(b) the case page of the 4-person 低保 case (`/applications/{id}/case`).
Each beside the same data read with plain Core SELECTs on one connection (the pool query and its counts; the
application, its household and its deadlines). Targets: median ≤ 50 ms, p95 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from api import free_port, reset_postgresql, server_env, start_api, stop, wait_ready  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from app.config import load_config  # noqa: E402
from app.db import dispose_engines, make_engine  # noqa: E402
from app.migrate import upgrade  # noqa: E402

PASSWORD = "benchmark secret 2026"
KINDS = ("review", "review", "home_visit", "data_correction", "objection", "home_help")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def line(name: str, samples: list[float], base: list[float]) -> str:
    m, p95, bm, bp95 = statistics.median(samples), pct(samples, 95), statistics.median(base), pct(base, 95)
    verdict = "met" if m <= 50 and p95 <= 100 else "MISSED"
    return (f"{name}: median {m:.1f} ms, p95 {p95:.1f} ms ({verdict}: ≤ 50 / ≤ 100) | plain Core SELECTs "
            f"median {bm:.2f} ms, p95 {bp95:.2f} ms | ratio {m / bm:.1f}× (median)")


def seed(env: dict, people: int) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "app.cli", "seed", "--people", str(people)], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def load_tasks(engine, n_tasks: int, n_streets: int, rng: random.Random) -> str:
    """TASKS open tasks over the N busiest streets; returns the busiest street."""
    from app.db import utcnow
    from app.models import Resident, StaffTask
    from app.models.ids import new_id

    with engine.connect() as conn:
        streets = [r[0] for r in conn.execute(
            select(Resident.street_code).group_by(Resident.street_code)
            .order_by(func.count().desc(), Resident.street_code).limit(n_streets))]
        per_street = {s: [tuple(r) for r in conn.execute(
            select(Resident.id, Resident.district_code, Resident.community_code)
            .where(Resident.street_code == s).limit(5000))] for s in streets}
    now = utcnow()
    rows = []
    for i in range(n_tasks):
        street = streets[i % len(streets)]
        rid, district, community = rng.choice(per_street[street])
        due = now + timedelta(days=rng.randint(-10, 20))
        rows.append({"id": new_id(), "kind": KINDS[i % len(KINDS)], "state": "open", "resident_id": rid,
                     "district_code": district, "street_code": street, "community_code": community,
                     "details": {}, "due_at": due, "created_at": due - timedelta(days=rng.randint(5, 30)),
                     "claimed_by": None})
    with engine.begin() as conn:
        for i in range(0, len(rows), 20_000):
            conn.execute(insert(StaffTask), rows[i:i + 20_000])
    return streets[0]


def setup_people(cfg, street: str) -> tuple[str, str, str]:
    """A reviewer of the street and a 4-person 低保 case there: (username, application id, district)."""
    from app.crypto import cipher_for
    from app.db import session_factory
    from app.models import Resident
    from flows.programs.dibao import cases
    from flows.staff import create_staff

    session = session_factory(cfg)()
    household = session.execute(
        select(Resident.household_id).where(Resident.street_code == street, Resident.death_date.is_(None))
        .group_by(Resident.household_id).having(func.count() == 4).limit(1)).scalar_one()
    members = session.scalars(select(Resident).where(Resident.household_id == household)
                              .order_by(Resident.birth_date)).all()
    head = members[0]
    application = cases.apply(session, head, "bench", declared_monthly_income_fen=10_000)
    create_staff(session, username="bench.reviewer", password=PASSWORD, role="reviewer",
                 district=head.district_code, street=street, cipher=cipher_for(cfg))
    session.commit()
    session.close()
    return "bench.reviewer", application.id, head.district_code


def plain_reads(engine, street: str, district: str, application_id: str, runs: int):
    """The same data as the two pages, read with Core SELECTs on one connection."""
    from app.models import Application, Resident, StaffTask, StepDeadline

    inbox, case = [], []
    with engine.connect() as conn:
        for i in range(runs + 5):
            t = time.perf_counter()
            open_here = (StaffTask.state == "open", StaffTask.district_code == district,
                         StaffTask.street_code == street)
            conn.execute(select(StaffTask).where(*open_here, StaffTask.claimed_by.is_(None),
                                                 StaffTask.kind == "review",
                                                 StaffTask.due_at < func.current_timestamp())
                         .order_by(StaffTask.due_at, StaffTask.created_at, StaffTask.id).limit(20)).all()
            conn.execute(select(func.count()).select_from(StaffTask).where(*open_here,
                                                                          StaffTask.claimed_by.is_(None))).scalar()
            conn.execute(select(func.count()).select_from(StaffTask).where(*open_here,
                                                                          StaffTask.due_at < func.current_timestamp())
                         ).scalar()
            if i >= 5:
                inbox.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            app = conn.execute(select(Application).where(Application.id == application_id)).one()
            head = conn.execute(select(Resident).where(Resident.id == app.resident_id)).one()
            conn.execute(select(Resident).where(Resident.household_id == head.household_id)).all()
            conn.execute(select(StepDeadline).where(StepDeadline.application_id == application_id)).all()
            if i >= 5:
                case.append((time.perf_counter() - t) * 1000)
    return inbox, case


def timed_http(session: requests.Session, urls: list[str], headers: dict, runs: int) -> list[float]:
    out = []
    for i in range(runs + 5):
        t = time.perf_counter()
        for url in urls:
            r = session.get(url, headers=headers, timeout=120)
            r.raise_for_status()
        if i >= 5:
            out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--tasks", type=int, default=200_000)
    parser.add_argument("--streets", type=int, default=100)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--database-url", default=None, help="PostgreSQL (its schema is dropped first)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="zt-bench-workbench-"))
    url = args.database_url or f"sqlite:///{tmp / 'workbench.db'}"
    if url.startswith("postgresql"):
        reset_postgresql(url)
    env = server_env(url, tmp / "instance")
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "ZEROTRIP_SIGNING_KEY", "ZEROTRIP_DATA_KEY",
                                           "ZEROTRIP_INSTANCE_PATH")})
    upgrade(url)
    print(f"seeding {args.people:,} residents …", flush=True)
    print(f"seed: {seed(env, args.people):.0f} s", flush=True)
    cfg = load_config({"database_url": url})
    engine = make_engine(url)
    t = time.perf_counter()
    street = load_tasks(engine, args.tasks, args.streets, random.Random(1))
    print(f"tasks: {args.tasks:,} over {args.streets} streets loaded in {time.perf_counter() - t:.1f} s", flush=True)
    username, application_id, district = setup_people(cfg, street)
    with engine.connect() as conn:
        here = conn.execute(text("SELECT count(*) FROM staff_tasks WHERE street_code = :s AND state = 'open'"),
                            {"s": street}).scalar()
    print(f"the reviewer's street {street}: {here:,} open tasks", flush=True)
    if engine.dialect.name == "postgresql":  # the planner's statistics, as autovacuum gathers them after a load
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    port = free_port()
    api = start_api(port, env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/healthz", api)
        s = requests.Session()
        login = s.post(f"{base}/api/v1/staff/auth/login", json={"username": username, "password": PASSWORD},
                       timeout=120)
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        inbox = timed_http(s, [f"{base}/api/v1/staff/inbox?kind=review&overdue=1",
                               f"{base}/api/v1/staff/inbox/counts"], headers, args.runs)
        case = timed_http(s, [f"{base}/api/v1/staff/applications/{application_id}/case"], headers, args.runs)
    finally:
        stop(api)
    base_inbox, base_case = plain_reads(engine, street, district, application_id, args.runs)
    dispose_engines()
    print(f"database: {engine.dialect.name}; {args.people:,} residents, {args.tasks:,} open tasks; "
          f"{args.runs} sequential calls after 5 warm-up, keep-alive; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(line("(a) inbox first page with filters + badge counts", inbox, base_inbox))
    print(line("(b) 4-person 低保 case page", case, base_case))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
