"""City-scale benchmark on PostgreSQL (or SQLite): population, backfill, next-day scan, with the settings.

    python benchmarks/city.py --db postgresql --database-url postgresql+psycopg://postgres@127.0.0.1:5432/zt_city --people 1000000
    python benchmarks/city.py --db sqlite --people 100000

Prints, in one run: the database engine's durability settings (PostgreSQL: fsync, synchronous_commit), free disk
before and after, the population load — a synthetic city written as a population CSV (untimed), then the real
`import_population` of it into the empty table (survey, validation, encryption, `COPY`, secondary indexes built
after; on PostgreSQL in one process per core) in rows/s, beside a bare load of the same stored rows (PostgreSQL:
`COPY` of them, dumped beforehand, into an empty table of the same shape, the same indexes built after), the elderly-allowance
backfill scan beside a bare `INSERT … SELECT` of the same rows (medians of --repeat), the next day's scan after
an import that changed 1,000 residents, and the database size. Reuses `benchmarks/scan.py` for the scan parts.
Then the monthly payroll: every proposal of the backfill becomes an active benefit (set-up, untimed), and the
roll of the month is computed (`flows.payroll.compute`, a draft: lines, totals, anomaly report, inputs) beside a
bare aggregate `INSERT … SELECT` of the same lines (benefits joined to residents and to the months already paid).
The target database must be empty (a fresh `createdb`); it is migrated first.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench_scan", HERE / "scan.py")
bench_scan = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_scan)  # also puts the project root on sys.path

from app.config import load_config  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.models import Application, OutboxMessage  # noqa: E402
from flows.dates import today_shanghai  # noqa: E402
from flows.imports.population import import_population  # noqa: E402
from flows.synthetic_city import people, write_population_csv  # noqa: E402


def free_disk(path: Path) -> str:
    return f"{shutil.disk_usage(path).free / 2**30:.1f} GiB free on {path}"


def settings(engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            names = ("server_version", "fsync", "synchronous_commit", "shared_buffers", "max_wal_size")
            return ", ".join(f"{n}={conn.scalar(text(f'SHOW {n}'))}" for n in names)
        return ", ".join(f"{n}={conn.scalar(text(f'PRAGMA {n}'))}" for n in ("journal_mode", "synchronous"))


def db_size(engine, url: str) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return conn.scalar(text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
    return f"{Path(url.removeprefix('sqlite:///')).stat().st_size / 2**20:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="sqlite")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--payroll-only", action="store_true",
                        help="a database this benchmark already filled (--database-url): only the monthly payroll")
    parser.add_argument("--loaded", action="store_true",
                        help="a database this benchmark already filled (--database-url): skip the population load")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="zt-bench-city-"))
    if args.db == "postgresql":
        url = args.database_url or "postgresql+psycopg://postgres@127.0.0.1:5432/zt_city"
    else:
        url = f"sqlite:///{tmp / 'city.db'}"
    cfg = load_config({"database_url": url, "instance_path": str(tmp), "testing": True})
    upgrade(url)
    engine = make_engine(url)
    print(f"database: {engine.dialect.name}; {settings(engine)}", flush=True)
    disk_at = Path("/var/lib/postgresql") if args.db == "postgresql" and Path("/var/lib/postgresql").exists() else tmp
    print(f"before: {free_disk(disk_at)}", flush=True)
    if args.payroll_only:
        payroll_figures(cfg, engine, today_shanghai(), args.repeat)
        print(f"database size: {db_size(engine, url)}; after: {free_disk(disk_at)}")
        return

    if args.loaded:
        with engine.connect() as conn:
            print(f"population already loaded: {conn.scalar(text('SELECT count(*) FROM residents')):,} residents",
                  flush=True)
    else:
        load_population(cfg, engine, tmp, args.people, args.seed)
    if engine.dialect.name == "postgresql":
        # As autovacuum would before the month's work: the planner's statistics, and every freshly loaded page's
        # hint bits and visibility set once (at 5.4 M the first bare statement after a plain ANALYZE took 1,790 s)
        t = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        print(f"VACUUM ANALYZE after the load (untimed in the figures): {time.perf_counter() - t:.1f} s", flush=True)

    as_of = today_shanghai()
    scans, bases, proposed, base_rows = [], [], 0, 0
    for _ in range(args.repeat):
        bench_scan.clear(engine)
        bases.append(bench_scan.baseline(engine, as_of))
        with engine.connect() as conn:
            base_rows = conn.scalar(select(func.count()).select_from(Application.__table__))
        bench_scan.clear(engine)
        seconds, proposed = bench_scan.timed_scan(cfg, as_of)
        scans.append(seconds)
    with engine.connect() as conn:
        outbox = conn.scalar(select(func.count()).select_from(OutboxMessage.__table__))
    scan_s, base_s = statistics.median(scans), statistics.median(bases)
    print(f"backfill scan: {proposed:,} applications + {outbox:,} outbox rows, median {scan_s:.2f} s "
          f"(runs: {', '.join(f'{s:.2f}' for s in scans)})")
    print(f"bare INSERT … SELECT of the same rows: {base_rows:,} applications + outbox, median {base_s:.2f} s "
          f"(runs: {', '.join(f'{s:.2f}' for s in bases)})")
    print(f"ratio backfill/bare: {scan_s / base_s:.2f} (target ≤ 2); backfill {scan_s:.2f} s (target ≤ 15 s)")

    changed = tmp / "changed.csv"
    bench_scan.changed_residents_csv(cfg, changed, 1000)
    result = import_population(cfg, changed)
    print(f"import of 1,000 changed residents: updated={result['updated']} unchanged={result['unchanged']}")
    day_scans = [bench_scan.timed_scan(cfg, as_of + timedelta(days=d))[0] for d in range(1, args.repeat + 1)]
    print(f"next-day scan: {day_scans[0]:.3f} s (target ≤ 0.5 s); following days: "
          f"{', '.join(f'{s:.3f}' for s in day_scans[1:]) or '-'} s")
    payroll_figures(cfg, engine, as_of, args.repeat)
    print(f"database size: {db_size(engine, url)}; after: {free_disk(disk_at)}")


def load_population(cfg, engine, tmp: Path, n: int, seed: int) -> None:
    """The synthetic city as a CSV (untimed), its import timed; on PostgreSQL the bare load beside it."""
    t = time.perf_counter()
    csv_path = tmp / "population.csv"
    write_population_csv(csv_path, people(n, seed, today_shanghai()))
    print(f"population CSV: {n:,} rows, {csv_path.stat().st_size / 2**20:,.0f} MB, generated in "
          f"{time.perf_counter() - t:.1f} s (untimed)", flush=True)
    t = time.perf_counter()
    result = import_population(cfg, csv_path)
    load_s = time.perf_counter() - t
    csv_path.unlink()
    print(f"population import (first load): {result['imported']:,} residents in {load_s:.1f} s = "
          f"{result['imported'] / load_s:,.0f} rows/s (target ≥ 50,000; {result['processes']} processes; of which "
          f"secondary indexes built after: {result.get('index_seconds', '-')} s; rejected {result['rejected']})",
          flush=True)
    if engine.dialect.name == "postgresql":
        bare_s = bare_load(engine, tmp)
        print(f"bare load of the same rows (COPY into an empty table of the same shape, its indexes after): "
              f"{bare_s:.1f} s = {result['imported'] / bare_s:,.0f} rows/s; ratio import/bare time "
              f"{load_s / bare_s:.2f}", flush=True)


def bare_load(engine, tmp: Path) -> float:
    """The database's own share of a first load: the stored residents dumped by `COPY … TO` (untimed), then
    timed: `COPY` into an empty table of the same columns and unique keys, and its secondary indexes built."""
    from sqlalchemy import MetaData
    from sqlalchemy.schema import CreateIndex, CreateSchema, CreateTable, DropSchema

    from app.models.resident import Resident

    bare = Resident.__table__.to_metadata(MetaData(schema="bare_load"))
    dump = tmp / "residents.copy"
    columns = ", ".join(c.name for c in bare.columns)
    with engine.begin() as conn:
        conn.execute(CreateSchema("bare_load"))
        conn.execute(CreateTable(bare))
        for index in (ix for ix in bare.indexes if ix.unique):
            conn.execute(CreateIndex(index))
        cursor = conn.connection.driver_connection.cursor()
        with open(dump, "wb") as out, cursor.copy(f"COPY public.residents ({columns}) TO STDOUT") as copy:
            for data in copy:
                out.write(data)
    started = time.perf_counter()
    with engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()
        with open(dump, "rb") as source, cursor.copy(f"COPY bare_load.residents ({columns}) FROM STDIN") as copy:
            while data := source.read(1 << 20):
                copy.write(data)
    with engine.begin() as conn:
        for index in (ix for ix in bare.indexes if not ix.unique):
            conn.execute(CreateIndex(index))
    seconds = time.perf_counter() - started
    dump.unlink()
    with engine.begin() as conn:
        conn.execute(DropSchema("bare_load", cascade=True))
    return seconds


BARE_ROLL = """
INSERT INTO payroll_lines (run_id, month, program, benefit_id, resident_id, tier, amount_fen, arrears_fen,
                           covered_from, covered_to, months, status)
SELECT CAST(:run_id AS VARCHAR), CAST(:month AS VARCHAR), b.program, b.id, b.resident_id, b.tier, b.monthly_amount_fen, 0,
       COALESCE(p.paid_to, b.start_month), CAST(:month AS VARCHAR), CAST(:months AS JSON), 'scheduled'
FROM benefits b JOIN residents r ON r.id = b.resident_id
LEFT JOIN (SELECT l.benefit_id, MAX(l.covered_to) AS paid_to FROM payroll_lines l
           JOIN payroll_runs pr ON pr.id = l.run_id WHERE pr.state = 'closed' AND l.status = 'paid'
           GROUP BY l.benefit_id) p ON p.benefit_id = b.id
WHERE b.state IN ('active', 'suspended', 'stopped') AND b.start_month <= CAST(:month AS VARCHAR)
"""


def payroll_figures(cfg, engine, as_of, repeat: int) -> None:
    """The month's roll of every program beside a bare aggregate INSERT … SELECT (medians of `repeat`)."""
    from app.db import session_scope
    from app.models.ids import new_id
    from flows import payroll
    from flows.programs.elderly_allowance import tier_for_month

    month = f"{as_of:%Y-%m}"
    with engine.begin() as conn:
        for table in ("payroll_lines", "payroll_runs", "benefits"):
            conn.execute(text(f"DELETE FROM {table}"))
        rows = conn.execute(text("SELECT a.id, a.program, a.resident_id, r.birth_date FROM applications a "
                                 "JOIN residents r ON r.id = a.resident_id WHERE a.state = 'proposed'")).all()
        now = as_of
        benefits = []
        for app_id, program, resident_id, born in rows:
            tier, fen = tier_for_month(date.fromisoformat(born) if isinstance(born, str) else born, month)
            benefits.append({"id": new_id(), "program": program, "resident_id": resident_id, "app": app_id,
                             "tier": tier, "fen": fen, "month": month, "now": now})
        conn.execute(text("INSERT INTO benefits (id, program, resident_id, application_id, origin, tier, "
                          "monthly_amount_fen, start_month, state, created_at, updated_at) VALUES (:id, :program, "
                          ":resident_id, :app, 'application', :tier, :fen, :month, 'active', :now, :now)"), benefits)
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE benefits"))
    rolls, bares, lines = [], [], 0
    for _ in range(repeat):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM payroll_lines"))
            conn.execute(text("DELETE FROM payroll_runs"))
        started = time.perf_counter()
        with session_scope(cfg) as session:
            lines = payroll.compute(session, month, as_of).lines
        rolls.append(time.perf_counter() - started)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM payroll_lines"))
            conn.execute(text("DELETE FROM payroll_runs"))
        started = time.perf_counter()
        with engine.begin() as conn:
            run_id = new_id()
            conn.execute(text("INSERT INTO payroll_runs (id, month, state, computed_at, as_of, inputs, totals, "
                              "anomalies) VALUES (:id, '1999-01', 'draft', :now, :as_of, '{}', '{}', '{}')"),
                         {"id": run_id, "now": as_of, "as_of": as_of})
            conn.execute(text(BARE_ROLL), {"run_id": run_id, "month": month, "months": "{}"})
        bares.append(time.perf_counter() - started)
    roll_s, bare_s = statistics.median(rolls), statistics.median(bares)
    print(f"monthly payroll ({month}): {lines:,} lines, median {roll_s:.2f} s (runs: "
          f"{', '.join(f'{s:.2f}' for s in rolls)}; target ≤ 60 s); bare aggregate INSERT … SELECT median "
          f"{bare_s:.2f} s; ratio {roll_s / bare_s:.2f} (target ≤ 2)", flush=True)


if __name__ == "__main__":
    main()
