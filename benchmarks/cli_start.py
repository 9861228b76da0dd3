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
import resource
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


CPU: list[float] = []  # CPU seconds (user + system) of each timed child, beside its wall time


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], env: dict | None = None) -> float:
    cpu, started = _children_cpu(), time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    CPU.append(_children_cpu() - cpu)
    return time.perf_counter() - started


def cpu_median(n: int) -> str:
    return f"CPU median {statistics.median(CPU[-n:]):.3f} s"


def median_of(n: int, argv: list[str], env: dict | None = None) -> tuple[float, list[float]]:
    runs = [timed(argv, env) for _ in range(n)]
    return statistics.median(runs), runs


def fmt(runs: list[float]) -> str:
    return ", ".join(f"{r:.3f}" for r in runs)


def scan_part(people: int, repeat: int, database_url: str | None, skip_seed: bool, first_day: date) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="zt-bench-cli-"))
    env = {**os.environ, "DATABASE_URL": database_url or f"sqlite:///{tmp / 'bench.db'}",
           "ZEROTRIP_INSTANCE_PATH": str(tmp), "ZEROTRIP_SIGNING_KEY": "bench-signing-key-0123456789abcdef",
           "ZEROTRIP_DATA_KEY": "YmVuY2htYXJrLWRhdGEta2V5LTAxMjM0NTY3ODlhYmNkZWY"}
    subprocess.run([*zerotrip(), "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
    if not skip_seed:
        started = time.perf_counter()
        subprocess.run([*zerotrip(), "seed", "--people", str(people)], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"seeded {people:,} residents in {time.perf_counter() - started:.0f} s "
              f"({env['DATABASE_URL'].split(':')[0]})")
    day = first_day
    scan = [*zerotrip(), "scan", "elderly-allowance", "--as-of"]
    print(f"first scan ({day}) as a command: {timed([*scan, day.isoformat()], env):.2f} s")
    next_days = [timed([*scan, (day + timedelta(days=k)).isoformat()], env) for k in range(1, repeat + 1)]
    print(f"next-day scan as a command: median {statistics.median(next_days):.3f} s (runs: {fmt(next_days)}), "
          f"{cpu_median(repeat)}; target ≤ 1 s")
    again, runs = median_of(repeat, [*scan, day.isoformat()], env)
    print(f"already-scanned day as a command (start-up only): median {again:.3f} s (runs: {fmt(runs)}), "
          f"{cpu_median(repeat)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=10, help="cold starts per command (median)")
    parser.add_argument("--people", type=int, default=0, help="also time the next-day scan at this size")
    parser.add_argument("--repeat", type=int, default=5, help="scans of following days")
    parser.add_argument("--database-url", default=None, help="reuse a database (with --skip-seed: as it is)")
    parser.add_argument("--skip-seed", action="store_true")
    parser.add_argument("--first-day", type=date.fromisoformat, default=date(2026, 12, 1),
                        help="as-of date of the first scan; the next days follow it")
    args = parser.parse_args()
    bare, bare_runs = median_of(args.starts, [sys.executable, "-c", "pass"])
    bare_cpu = cpu_median(args.starts)
    helped, help_runs = median_of(args.starts, [*zerotrip(), "--help"])
    print(f"python -c pass:  median {bare:.3f} s (runs: {fmt(bare_runs)}), {bare_cpu}")
    print(f"zerotrip --help: median {helped:.3f} s (runs: {fmt(help_runs)}), {cpu_median(args.starts)}; "
          f"target ≤ 0.3 s")
    if args.people or args.skip_seed:
        scan_part(args.people, args.repeat, args.database_url, args.skip_seed, args.first_day)


if __name__ == "__main__":
    main()
