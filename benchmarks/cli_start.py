"""How fast `zerotrip` starts: `zerotrip --help` beside `python -c pass`, and the next-day scan as a command.

    python benchmarks/cli_start.py                      # --help only (median of 10 cold starts each)
    python benchmarks/cli_start.py --people 1000000     # also the next-day scan of 1 M residents, as a command

Every start is a new process (the interpreter, click and the lazily loaded subcommand each time). The scan
part seeds a SQLite city with `zerotrip seed`, runs the first (backfill) scan, then times
`zerotrip scan elderly-allowance --as-of <next day>` end to end as a command, for --repeat following days,
and a scan of an already-scanned day (pure start-up: config, schema check, imports). Targets:
`--help` ≤ 0.3 s; the next-day scan as a command ≤ 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def zerotrip() -> list[str]:
    script = BIN / "zerotrip"
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]


def timed(argv: list[str], env: dict | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - started


def median_of(n: int, argv: list[str], env: dict | None = None) -> tuple[float, list[float]]:
    runs = [timed(argv, env) for _ in range(n)]
    return statistics.median(runs), runs


def fmt(runs: list[float]) -> str:
    return ", ".join(f"{r:.3f}" for r in runs)


def scan_part(people: int, repeat: int, database_url: str | None) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="zt-bench-cli-"))
    env = {**os.environ, "DATABASE_URL": database_url or f"sqlite:///{tmp / 'bench.db'}",
           "ZEROTRIP_INSTANCE_PATH": str(tmp), "ZEROTRIP_SIGNING_KEY": "bench-signing-key-0123456789",
           "ZEROTRIP_DATA_KEY": "YmVuY2htYXJrLWRhdGEta2V5LTAxMjM0NTY3ODlhYmNkZWY"}
    subprocess.run([*zerotrip(), "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
    started = time.perf_counter()
    subprocess.run([*zerotrip(), "seed", "--people", str(people)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"seeded {people:,} residents in {time.perf_counter() - started:.0f} s ({env['DATABASE_URL'].split(':')[0]})")
    day = date(2026, 12, 1)
    scan = [*zerotrip(), "scan", "elderly-allowance", "--as-of"]
    print(f"backfill scan as a command: {timed([*scan, day.isoformat()], env):.2f} s")
    next_days = [timed([*scan, (day + timedelta(days=k)).isoformat()], env) for k in range(1, repeat + 1)]
    print(f"next-day scan as a command: median {statistics.median(next_days):.3f} s (runs: {fmt(next_days)}); "
          f"target ≤ 1 s")
    again, runs = median_of(repeat, [*scan, day.isoformat()], env)
    print(f"already-scanned day as a command (start-up only): median {again:.3f} s (runs: {fmt(runs)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=10, help="cold starts per command (median)")
    parser.add_argument("--people", type=int, default=0, help="also time the next-day scan at this size")
    parser.add_argument("--repeat", type=int, default=5, help="scans of following days")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    bare, bare_runs = median_of(args.starts, [sys.executable, "-c", "pass"])
    helped, help_runs = median_of(args.starts, [*zerotrip(), "--help"])
    print(f"python -c pass:  median {bare:.3f} s (runs: {fmt(bare_runs)})")
    print(f"zerotrip --help: median {helped:.3f} s (runs: {fmt(help_runs)}); target ≤ 0.3 s")
    if args.people:
        scan_part(args.people, args.repeat, args.database_url)


if __name__ == "__main__":
    main()
