"""Population import throughput against its own baseline, measured in the same run.

    python benchmarks/import.py [--rows 1000000] [--seed 1] [--database-url URL]

1. Generates a population CSV of N synthetic Taiyuan residents (flows.synthetic_city).
2. Imports it through the real path (`import_population`: survey, validation, HMAC + AES-GCM, bulk upsert into
   the migrated `residents` table — empty, so its secondary indexes are built after the rows, inside the timed
   part: flows.imports.first_load; on PostgreSQL new rows go in by COPY) and prints rows/s.
3. Baseline: into a fresh migrated database, a bare driver `executemany` upsert (INSERT … ON CONFLICT (id_hash)
   DO UPDATE) of the same rows, already validated, hashed and encrypted outside the timed part, in batches of
   the same size with one commit per batch. Prints rows/s and the ratio (target ≥ 0.50).
4. A full re-import of the same file (every row unchanged) beside the same bare upsert run again into the table
   that now holds the rows (target ≥ 0.80, issue 17 item 1b).

Without --database-url both runs use SQLite files in a temporary directory. With a PostgreSQL URL the
database must be empty (the script refuses otherwise); residents are cleared between and after the runs.
Exit status 1 when a ratio is below its target.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from app.config import load_config  # noqa: E402
from app.crypto import cipher_for  # noqa: E402
from app.db import dispose_engines, make_engine  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.models.resident import Resident  # noqa: E402
from flows.imports.batch import local_today  # noqa: E402
from flows.imports.csvfile import rows  # noqa: E402
from flows.imports.population import import_population  # noqa: E402
from flows.imports.validation import POPULATION_COLUMNS, validate_person  # noqa: E402
from flows.imports.writer import _WRITTEN, BATCH_ROWS, SQLITE_CACHE, ResidentWriter, chunks  # noqa: E402
from flows.synthetic_city import people, write_population_csv  # noqa: E402

TARGET = 0.50
TARGET_REIMPORT = 0.80
KEYS = {"data_key": "YmVuY2htYXJrLWRhdGEta2V5LTAxMjM0NTY3ODlhYmNkZWY", "signing_key": "benchmark-signing-key-0123456789abcdef"}


def config(url: str, instance: Path):
    return load_config({"database_url": url, "instance_path": str(instance), "testing": True, **KEYS})


def fresh(url: str) -> None:
    upgrade(url)
    with make_engine(url).begin() as conn:
        if conn.execute(select(func.count()).select_from(Resident.__table__)).scalar():
            if url.startswith("sqlite"):
                raise SystemExit(f"refusing: {url} already has residents")
            raise SystemExit("refusing: the database already has residents (give an empty database)")


def clear(url: str) -> None:
    if not url.startswith("sqlite"):
        with make_engine(url).begin() as conn:
            conn.execute(text("TRUNCATE residents RESTART IDENTITY CASCADE"))


def upsert_sql(dialect: str) -> str:
    columns = ("id_hash", *_WRITTEN)
    mark = "?" if dialect == "sqlite" else "%s"
    updates = ", ".join(f"{c} = excluded.{c}" for c in _WRITTEN)
    return (f"INSERT INTO residents ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))}) "
            f"ON CONFLICT (id_hash) DO UPDATE SET {updates}")


def prepared_batches(cfg, csv_path: Path, today: date):
    """The import's own preparation (validation, keyed hash, ciphertext), done outside the timed part."""
    writer = ResidentWriter(make_engine(cfg.database_url), cipher_for(cfg), today)
    stamps = writer._stamps()
    lookup = writer.cipher.lookup_hash
    records = (validate_person(row, today)[0] for _, row in rows(csv_path, POPULATION_COLUMNS))
    for batch in chunks((r for r in records if r), BATCH_ROWS):
        yield [(lookup(r["id_number"], "id"), *writer._values(r, writer.row_hash(r), stamps)) for r in batch]


def baseline(cfg, csv_path: Path, today: date) -> tuple[int, float]:
    engine = make_engine(cfg.database_url)
    sql, done, spent = upsert_sql(engine.dialect.name), 0, 0.0
    raw = engine.raw_connection()
    if engine.dialect.name == "sqlite":
        raw.cursor().execute(SQLITE_CACHE)  # the same page cache the import's writer asks for
    try:
        for batch in prepared_batches(cfg, csv_path, today):
            started = time.perf_counter()
            cursor = raw.cursor()
            cursor.executemany(sql, batch)
            raw.commit()
            spent += time.perf_counter() - started
            done += len(batch)
    finally:
        raw.close()
    return done, spent


def rate(label: str, n: int, seconds: float) -> float:
    per_second = n / seconds if seconds else 0.0
    print(f"{label}: {n} rows in {seconds:.1f} s = {per_second:,.0f} rows/s", flush=True)
    return per_second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zerotrip-bench-") as tmp:
        work = Path(tmp)
        import_url = args.database_url or f"sqlite:///{work / 'import.db'}"
        base_url = args.database_url or f"sqlite:///{work / 'baseline.db'}"
        cfg = config(import_url, work / "instance")
        today = local_today(cfg)
        csv_path = work / "population.csv"
        started = time.perf_counter()
        write_population_csv(csv_path, people(args.rows, args.seed, today))
        print(f"generate: {args.rows} rows in {time.perf_counter() - started:.1f} s "
              f"({csv_path.stat().st_size / 1e6:.0f} MB CSV)", flush=True)

        fresh(import_url)
        started = time.perf_counter()
        result = import_population(cfg, csv_path)
        ours = rate("import", args.rows, time.perf_counter() - started)
        print(f"  imported={result['imported']} rejected={result['rejected']}; of which building the secondary "
              f"indexes after the rows (first load): {result.get('index_seconds', 0):.1f} s", flush=True)
        started = time.perf_counter()
        again = import_population(cfg, csv_path)
        ours_again = rate("re-import, every row unchanged", args.rows, time.perf_counter() - started)
        assert again["unchanged"] == result["imported"], again
        clear(import_url)

        base_cfg = config(base_url, work / "instance")
        fresh(base_url)
        n, seconds = baseline(base_cfg, csv_path, today)
        bare = rate("baseline executemany upsert", n, seconds)
        n, seconds = baseline(base_cfg, csv_path, today)
        bare_again = rate("baseline executemany upsert of the same rows again", n, seconds)
        clear(base_url)
        dispose_engines()
    ratio = ours / bare if bare else 0.0
    ratio_again = ours_again / bare_again if bare_again else 0.0
    print(f"ratio: {ratio:.2f} (target ≥ {TARGET:.2f}); re-import ratio: {ratio_again:.2f} (target ≥ "
          f"{TARGET_REIMPORT:.2f})")
    return 0 if ratio >= TARGET and ratio_again >= TARGET_REIMPORT else 1


if __name__ == "__main__":
    sys.exit(main())
