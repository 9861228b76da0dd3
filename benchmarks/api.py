"""Benchmark the production API under gunicorn against a bare Flask app under the same gunicorn settings.

    python benchmarks/api.py --db sqlite
    python benchmarks/api.py --db postgresql --database-url postgresql+psycopg://postgres@127.0.0.1:5432/zt_bench

Needs `wrk` (Debian: `apt-get install -y wrk`). The PostgreSQL database given is emptied (its public schema is
dropped and migrated again); SQLite uses a fresh file in a temporary directory.

Prepares `--accounts` residents aged 80+ with a proposal each (through the real scan), a bound account and a
live sign-in each (Core inserts) and an access token each (signed with the server's key), plus
`--confirm-pairs` more for the confirm run. Then, with both servers up (`gunicorn -k gthread -w 2 --threads 4`),
runs wrk in turns, `--repeat` times:

- bare Flask (`GET /bare`) at 50 and at 8 connections — the baseline;
- authenticated `GET /api/v1/applications` and `GET /api/v1/applications/{id}`, every request with the next
  account's token (and its application), at 50 and at 8 connections;
- `POST /api/v1/applications/{id}/confirm`, each prepared (token, application) pair once.

Prints each figure with its baseline and the ratio (medians of the repeats), the machine's load, and after
the confirm runs the outbox rows per confirmed application (exactly one is right). Targets: throughput ≥ 35%
of bare at 50 connections; p99 ≤ 50 ms at 8 connections; confirm ≥ 300 req/s.

Each run also prints how the server's two workers shared it (CPU seconds of each gunicorn worker over the run).
wrk opens its connections at once and keeps them; a gthread worker accepts every connection that is waiting
when it wakes, so now and then one worker takes all of them and the other idles — the figure is then one
process's, about a third of the usual (the "bare app at ≈ 2,000 req/s" of earlier notes: during such a run one
worker used 108% of a core, the other nothing). A read or bare run where the less busy worker used under a
third of the busier one's CPU is run again (up to 3 times in all), and the line says so; a confirm run spends its
pairs, so it is not repeated: its line shows the split.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from sqlalchemy import text  # noqa: E402

from app.config import load_config  # noqa: E402
from app.db import dispose_engines, make_engine  # noqa: E402
from app.migrate import upgrade  # noqa: E402

TEST_SIGNING_KEY = "test-signing-key-0123456789abcdef0123456789"  # the test suite's key (tests/conftest.py)
TEST_DATA_KEY = "dGVzdC1kYXRhLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE"
WORKERS, THREADS, WRK_THREADS = 2, 4, 2
LUA = ROOT / "benchmarks" / "wrk" / "rotate.lua"
TARGET_RATIO, TARGET_P99_MS, TARGET_CONFIRM = 0.35, 50.0, 300.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _proof_key() -> str:
    """A throw-away P-256 key: production refuses to start without the proof-signing key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def server_env(database_url: str, instance: Path) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "ZEROTRIP_ENV": "production",
            "ZEROTRIP_SIGNING_KEY": TEST_SIGNING_KEY, "ZEROTRIP_DATA_KEY": TEST_DATA_KEY,
            "ZEROTRIP_PROOF_KEY": _proof_key(),
            "ZEROTRIP_INSTANCE_PATH": str(instance), "ACCESS_TOKEN_TTL": str(6 * 3600),
            "PYTHONPATH": str(ROOT)}


def gunicorn(app_path: str, port: int, env: dict) -> subprocess.Popen:
    """`gunicorn -k gthread -w 2 --threads 4` serving `app_path` on 127.0.0.1:port."""
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(WORKERS), "--threads", str(THREADS),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", app_path],
        cwd=ROOT, env=env, start_new_session=True)


def start_api(port: int, env: dict) -> subprocess.Popen:
    """The production API process: `zerotrip serve` (gunicorn gthread, the same workers and threads as the bare
    app's gunicorn), its metrics on a free loopback port."""
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(WORKERS), "--threads", str(THREADS), "--metrics-port", str(free_port())],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL)


def start_bare(port: int, env: dict) -> subprocess.Popen:
    return gunicorn("benchmarks.bare_app:application", port, env)


def wait_ready(url: str, proc: subprocess.Popen) -> None:
    idle_since = time.monotonic()
    while time.monotonic() - idle_since < 120:
        if proc.poll() is not None:
            raise SystemExit(f"{' '.join(proc.args)} exited with {proc.returncode}")
        try:
            requests.get(url, timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer in 120 s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * _UNITS[unit]


def wrk(url: str, connections: int, seconds: float, lua_args: list[str] | None = None) -> dict:
    """One wrk run: requests/s, p50/p99 in ms, completed requests and non-2xx answers."""
    cmd = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "10s"]
    if lua_args is not None:
        cmd += ["-s", str(LUA), url, "--", *lua_args]
    else:
        cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    done = re.search(r"^\s*(\d+) requests in ([\d.]+)(\w+),", out, re.M)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not (done and rps and "50" in latency and "99" in latency):
        raise SystemExit(f"could not read wrk's output of {' '.join(cmd)}:\n{out}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)$", out, re.M)
    return {"rps": float(rps.group(1)), "p50": _ms(latency["50"]), "p99": _ms(latency["99"]),
            "requests": int(done.group(1)), "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else ""}


BALANCED = 1 / 3  # the less busy worker's CPU at least this share of the busier one's
ATTEMPTS = 3


def worker_pids(master: subprocess.Popen) -> list[int]:
    """The gunicorn workers of a server started by this script: the master's children forked from it (same
    command line)."""
    def cmdline(pid) -> bytes:
        return Path(f"/proc/{pid}/cmdline").read_bytes()

    children = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in children if cmdline(pid) == cmdline(master.pid)]


def cpu_seconds(pids: list[int]) -> list[float]:
    """utime + stime of each process (all its threads), in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = []
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        seconds.append((int(fields[11]) + int(fields[12])) / ticks)
    return seconds


def balanced_wrk(workers: list[int], url: str, connections: int, seconds: float, lua_args: list[str] | None = None,
                 repeat_when_lopsided: bool = True) -> dict:
    """`wrk`, with each worker's share of the server's CPU over the run (`split`); run again, up to ATTEMPTS in
    all, while one worker did less than BALANCED of the other's work (`attempts`). Without two workers found,
    a plain run (`split` empty)."""
    if len(workers) < 2:
        return {**wrk(url, connections, seconds, lua_args), "split": [], "attempts": 1}
    for attempt in range(1, ATTEMPTS + 1):
        before = cpu_seconds(workers)
        run = wrk(url, connections, seconds, lua_args)
        used = [after - start for after, start in zip(cpu_seconds(workers), before, strict=True)]
        total = sum(used) or 1.0
        run["split"], run["attempts"] = [u / total for u in used], attempt
        if not repeat_when_lopsided or min(used) >= BALANCED * max(used):
            break
    return run


def describe_split(run: dict) -> str:
    split = "/".join(f"{share:.0%}" for share in run["split"]) or "not found"
    return f"workers {split}" + (f" (run {run['attempts']} times: lopsided)" if run["attempts"] > 1 else "")


def write_pairs(path: Path, pairs) -> Path:
    path.write_text("".join(f"{p.token}\t{p.application_id}\n" for p in pairs))
    return path


def reset_postgresql(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    dispose_engines()


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def med(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def show(runs: list[dict], key: str, fmt: str) -> str:
    return ", ".join(format(r[key], fmt) for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (its public schema is dropped first)")
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--confirm-pairs", type=int, default=20_000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: install it with `apt-get install -y wrk` (Debian package `wrk`).")

    tmp = Path(tempfile.mkdtemp(prefix="zt-bench-api-"))
    if args.db == "sqlite":
        url = f"sqlite:///{tmp / 'bench.db'}"
    else:
        url = args.database_url or os.environ.get("DATABASE_URL", "")
        if not url.startswith("postgresql"):
            raise SystemExit("--db postgresql needs --database-url postgresql+psycopg://… (a database to empty)")
        reset_postgresql(url)
    upgrade(url)
    cfg = load_config({"database_url": url, "instance_path": str(tmp), "signing_key": TEST_SIGNING_KEY,
                       "data_key": TEST_DATA_KEY, "access_token_ttl": 6 * 3600, "testing": True})
    import api_data

    print(f"database: {args.db}; preparing {args.accounts:,} + {args.confirm_pairs:,} accounts …", flush=True)
    started = time.perf_counter()
    pairs = api_data.prepare(cfg, args.accounts + args.confirm_pairs)
    with make_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))  # planner statistics for the freshly loaded tables
    dispose_engines()
    print(f"prepared in {time.perf_counter() - started:.1f} s", flush=True)
    readers, confirmers = pairs[:args.accounts], pairs[args.accounts:]
    read_file = write_pairs(tmp / "read.tsv", readers)
    slices = [confirmers[i::args.repeat] for i in range(args.repeat)]
    confirm_files = [write_pairs(tmp / f"confirm{i}.tsv", s) for i, s in enumerate(slices)]

    env = server_env(url, tmp)
    api_port, bare_port = free_port(), free_port()
    api, bare = start_api(api_port, env), start_bare(bare_port, env)
    results: dict[str, list[dict]] = {}
    try:
        wait_ready(f"http://127.0.0.1:{api_port}/healthz", api)
        wait_ready(f"http://127.0.0.1:{bare_port}/bare", bare)
        api_url, bare_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{bare_port}/bare"
        threads = str(WRK_THREADS)
        wrk(bare_url, 8, 2)  # warm-up: imports, pools, first connections
        wrk(api_url, 8, 2, [str(read_file), "list", threads])
        wrk(api_url, 8, 2, [str(read_file), "one", threads])
        api_workers, bare_workers = worker_pids(api), worker_pids(bare)
        print(f"load before the runs: {load()}; workers: api {api_workers}, bare {bare_workers}", flush=True)
        for round_ in range(args.repeat):
            for connections in (50, 8):
                for name, workers, url_, lua in (("bare", bare_workers, bare_url, None),
                                                 ("list", api_workers, api_url, [str(read_file), "list", threads]),
                                                 ("one", api_workers, api_url, [str(read_file), "one", threads])):
                    run = balanced_wrk(workers, url_, connections, args.duration, lua)
                    results.setdefault(f"{name}@{connections}", []).append(run)
                    print(f"  round {round_ + 1} {name:>4} c{connections:<2}: {run['rps']:8.0f} req/s  "
                          f"p50 {run['p50']:6.1f} ms  p99 {run['p99']:6.1f} ms  non-2xx {run['non_2xx']}"
                          f"{'  socket errors ' + run['socket_errors'] if run['socket_errors'] else ''}  "
                          f"{describe_split(run)}  (load {load()})", flush=True)
            run = balanced_wrk(api_workers, api_url, 50, args.duration,
                               [str(confirm_files[round_]), "confirm", threads, "once"], repeat_when_lopsided=False)
            results.setdefault("confirm@50", []).append(run)
            print(f"  round {round_ + 1} confirm c50: {run['rps']:8.0f} req/s  p50 {run['p50']:6.1f} ms  "
                  f"p99 {run['p99']:6.1f} ms  {run['requests']:,} requests of {len(slices[round_]):,} pairs  "
                  f"non-2xx {run['non_2xx']}  {describe_split(run)}  (load {load()})", flush=True)
    finally:
        stop(api)
        stop(bare)

    report(args, results, cfg, confirmers)


def report(args, results: dict, cfg, confirmers) -> None:
    import api_data

    print(f"\nsummary ({args.db}; gunicorn -k gthread -w {WORKERS} --threads {THREADS}; wrk -t{WRK_THREADS} "
          f"-d{args.duration:g}s; medians of {args.repeat}; load now {load()}; {os.cpu_count()} cores)")
    failures = []
    for connections in (50, 8):
        bare = results[f"bare@{connections}"]
        print(f"bare Flask c{connections}: {med(bare, 'rps'):.0f} req/s (runs {show(bare, 'rps', '.0f')}), "
              f"p99 {med(bare, 'p99'):.1f} ms")
        for name, label in (("list", "GET /api/v1/applications"), ("one", "GET /api/v1/applications/{id}")):
            runs = results[f"{name}@{connections}"]
            ratios = [r["rps"] / b["rps"] for r, b in zip(runs, bare, strict=True)]
            ratio, p99 = statistics.median(ratios), med(runs, "p99")
            print(f"{label} c{connections}: {med(runs, 'rps'):.0f} req/s (runs {show(runs, 'rps', '.0f')}) = "
                  f"{ratio:.0%} of bare (per-round ratios {', '.join(f'{x:.0%}' for x in ratios)}); "
                  f"p50 {med(runs, 'p50'):.1f} ms, p99 {p99:.1f} ms (runs {show(runs, 'p99', '.1f')}; "
                  f"bare p99 {med(bare, 'p99'):.1f} ms)")
            if sum(r["non_2xx"] for r in runs):
                failures.append(f"{label} c{connections}: {sum(r['non_2xx'] for r in runs)} non-2xx answers")
            if connections == 50 and ratio < TARGET_RATIO:
                failures.append(f"{label} c50 at {ratio:.0%} of bare (target ≥ {TARGET_RATIO:.0%})")
            if connections == 8 and p99 > TARGET_P99_MS:
                failures.append(f"{label} c8 p99 {p99:.1f} ms (target ≤ {TARGET_P99_MS:.0f} ms)")
    everything = [run for runs in results.values() for run in runs]
    repeated = sum(run["attempts"] > 1 for run in everything)
    lopsided = sum(bool(run["split"]) and min(run["split"]) < BALANCED * max(run["split"]) for run in everything)
    print(f"runs repeated because one worker took most of the connections: {repeated}; runs still lopsided "
          f"(their figure is one worker's): {lopsided} of {len(everything)}")
    confirm, bare50 = results["confirm@50"], results["bare@50"]
    rps = med(confirm, "rps")
    print(f"POST /api/v1/applications/{{id}}/confirm c50: {rps:.0f} req/s (runs {show(confirm, 'rps', '.0f')}; "
          f"target ≥ {TARGET_CONFIRM:.0f}) = {rps / med(bare50, 'rps'):.0%} of bare; p50 {med(confirm, 'p50'):.1f} ms, "
          f"p99 {med(confirm, 'p99'):.1f} ms")
    outcome = api_data.confirm_outcome(cfg, confirmers)
    sent = sum(r["requests"] for r in confirm)
    print(f"confirm outcome: {sent:,} confirms answered, {outcome['decided']:,} applications decided, "
          f"{outcome['outbox_rows']:,} decision outbox rows; {outcome['apps_with_one_row']:,} applications with "
          f"exactly one, {outcome['apps_with_other_count']:,} with another count "
          f"(of {len(confirmers):,} prepared pairs)")
    if rps < TARGET_CONFIRM:
        failures.append(f"confirm {rps:.0f} req/s (target ≥ {TARGET_CONFIRM:.0f})")
    if outcome["apps_with_other_count"] or outcome["outbox_rows"] != outcome["decided"]:
        failures.append("not exactly one outbox row per confirmed application")
    if sum(r["non_2xx"] for r in confirm):
        failures.append(f"confirm: {sum(r['non_2xx'] for r in confirm)} non-2xx answers")
    print("result: " + ("all targets met" if not failures else "MISSED: " + "; ".join(failures)))


if __name__ == "__main__":
    main()
