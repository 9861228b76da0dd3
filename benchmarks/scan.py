"""Benchmark the elderly-allowance scan against plain INSERT … SELECT, and the next day's scan.

    python benchmarks/scan.py --people 1000000

Prints, in one run: the backfill scan (median of --repeat runs, 5 by default, each beside its baseline), a baseline of plain `INSERT … SELECT`
statements writing the same rows to the same tables (applications and outbox), their ratio, and the
next day's scan after an import that changed 1,000 residents. Targets (2-core machine, SQLite):
backfill ≤ 1.2× baseline (issue 10) and ≤ 10 s; next-day scan ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import load_config  # noqa: E402
from app.crypto import cipher_for  # noqa: E402
from app.db import make_engine, session_factory, utcnow  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.models import Application, OutboxMessage, Resident  # noqa: E402
from app.sql import Dialect, probe_indexes  # noqa: E402
from flows.dates import today_shanghai  # noqa: E402
from flows.imports.population import import_population  # noqa: E402
from flows.programs.elderly_allowance import scan  # noqa: E402
from flows.synthetic_city import POPULATION_COLUMNS, seed_city  # noqa: E402


def clear(engine) -> None:
    with engine.begin() as conn:
        for table in ("outbox", "applications", "scan_runs"):
            conn.execute(text(f"DELETE FROM {table}"))


def baseline(engine, as_of) -> float:
    """The same rows through two plain statements (the scan's own, without batches, OR IGNORE or run record)."""
    d = Dialect(engine.dialect.name)
    applications, outbox = scan._statements(d, as_of, ignore=False)
    params = {**scan._params(as_of, "baseline"), "now": utcnow()}
    started = time.perf_counter()
    with engine.begin() as conn:
        probe_indexes(conn)  # the planner setting the scan's batches run with (app.sql.probe_indexes)
        conn.execute(applications, params)
        conn.execute(outbox, params)
    return time.perf_counter() - started


def timed_scan(cfg, as_of) -> tuple[float, int]:
    started = time.perf_counter()
    result = scan.scan_turning_80(cfg, as_of)
    return time.perf_counter() - started, result.proposed


def changed_residents_csv(cfg, path: Path, count: int) -> None:
    """Export `count` residents with a changed community, through the real import path."""
    cipher = cipher_for(cfg)
    with session_factory(cfg)() as s:
        rows = s.scalars(select(Resident).order_by(Resident.id).limit(count)).all()
        with open(path, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=POPULATION_COLUMNS)
            writer.writeheader()
            for r in rows:
                writer.writerow({
                    "id_number": cipher.decrypt(r.id_enc), "name": r.name, "sex": r.sex,
                    "birth_date": r.birth_date.isoformat(), "household_id": r.household_id,
                    "relation_to_head": r.relation_to_head, "district_code": r.district_code,
                    "street_code": r.street_code, "community_code": r.community_code,
                    "hukou_local": "true" if r.hukou_local else "false",
                    "phone": "139" + f"{r.id:08d}"[-8:], "death_date": r.death_date.isoformat() if r.death_date else "",
                })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="zt-bench-scan-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    cfg = load_config({"database_url": url, "instance_path": str(tmp), "testing": True})
    upgrade(url)
    engine = make_engine(url)
    print(f"database: {engine.dialect.name}; seeding {args.people:,} residents …", flush=True)
    t = time.perf_counter()
    seed_city(cfg, args.people, args.seed)
    print(f"seeded in {time.perf_counter() - t:.1f} s", flush=True)
    as_of = today_shanghai()

    scans, bases, proposed = [], [], 0
    for _ in range(args.repeat):
        clear(engine)
        bases.append(baseline(engine, as_of))
        with engine.connect() as conn:
            base_rows = conn.scalar(select(func.count()).select_from(Application.__table__))
        clear(engine)
        seconds, proposed = timed_scan(cfg, as_of)
        scans.append(seconds)
    with engine.connect() as conn:
        outbox = conn.scalar(select(func.count()).select_from(OutboxMessage.__table__))
    scan_s, base_s = statistics.median(scans), statistics.median(bases)
    print(f"backfill scan:  {proposed:,} applications + {outbox:,} outbox rows, median {scan_s:.2f} s "
          f"(runs: {', '.join(f'{s:.2f}' for s in scans)})")
    print(f"baseline INSERT … SELECT: {base_rows:,} applications + outbox rows, median {base_s:.2f} s "
          f"(runs: {', '.join(f'{s:.2f}' for s in bases)})")
    print(f"ratio backfill/baseline: {scan_s / base_s:.2f} (target ≤ 1.20); backfill {scan_s:.2f} s (target ≤ 10 s)")

    changed = tmp / "changed.csv"
    changed_residents_csv(cfg, changed, 1000)
    result = import_population(cfg, changed)
    print(f"import of 1,000 changed residents: updated={result['updated']} unchanged={result['unchanged']}")
    day_scans = []
    for offset in range(1, args.repeat + 1):
        seconds, next_proposed = timed_scan(cfg, as_of + timedelta(days=offset))
        day_scans.append(seconds)
    print(f"next-day scan after the import: {day_scans[0]:.3f} s (target ≤ 0.5 s); "
          f"following days: {', '.join(f'{s:.3f}' for s in day_scans[1:]) or '-'} s")


if __name__ == "__main__":
    main()
