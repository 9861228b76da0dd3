"""Waiting in tests on progress, never on the wall clock.

A slow or loaded machine must not fail a test. So a test never waits "at most N seconds"; it waits while
something moves and fails only when nothing has moved for STALL_S seconds (120 by default, env
ZEROTRIP_TEST_STALL_S), with what it last saw in the message.

- `wait_until(probe, done, what=…)`: poll `probe()` (counts, a tuple, a dict — anything comparable) until
  `done(seen)`; every change of what is seen is progress. `progress=` adds another probe (e.g. the CPU time
  of the processes doing the work, `cpu_of(proc)`), so that a long silent step still counts as moving.
- `wait_http(url, proc)`: a server process until it answers (its CPU time is its progress while it starts).
- `wait_exit(proc)`, `stop(proc)`: a process until it exits / SIGTERM, then wait, then SIGKILL if it stalls.
- `run([...])`: `subprocess.run(capture_output=True, text=True)` without a wall-clock timeout: it fails
  (and kills the process) only when the process has neither used CPU nor written output for STALL_S.
- `HTTP_TIMEOUT`: for `requests`' `timeout=` — a read timeout is already "no byte for N seconds".
- `PLAYWRIGHT_TIMEOUT_MS`: for `set_default_timeout` (Playwright's waits have no progress probe; this is
  the same 120 s, far beyond any normal step).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STALL_S = float(os.environ.get("ZEROTRIP_TEST_STALL_S", "120"))
HTTP_TIMEOUT = STALL_S
PLAYWRIGHT_TIMEOUT_MS = int(STALL_S * 1000)
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class Stalled(AssertionError):
    """Nothing moved for STALL_S seconds."""


def wait_until(probe: Callable[[], Any], done: Callable[[Any], bool] = bool, *, what: str,
               progress: Callable[[], Any] | None = None, stall_s: float | None = None) -> Any:
    """Poll until `done(probe())`; return the last thing seen. Fails only after `stall_s` without a change."""
    limit = STALL_S if stall_s is None else stall_s
    started = last_move = time.monotonic()
    seen = probe()
    marker = (seen, progress() if progress else None)
    moves, pause = 0, 0.01
    while not done(seen):
        now = time.monotonic()
        if now - last_move > limit:
            raise Stalled(f"{what}: nothing moved for {limit:.0f}s (waited {now - started:.0f}s, "
                          f"{moves} changes seen); last seen: {seen!r}")
        time.sleep(pause)
        pause = min(pause * 1.5, 0.5)
        seen = probe()
        new_marker = (seen, progress() if progress else None)
        if new_marker != marker:
            marker, last_move, moves = new_marker, time.monotonic(), moves + 1
    return seen


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime


def cpu_of(*procs) -> Callable[[], float]:
    """A progress probe: CPU seconds used so far by these processes (Popen or pid) and their descendants."""
    pids = [getattr(p, "pid", p) for p in procs]

    def probe() -> float:
        tree, todo, ticks = _children(), list(pids), 0
        while todo:
            pid = todo.pop()
            ticks += _cpu_ticks(pid)
            todo.extend(tree.get(pid, ()))
        return ticks / _TICK

    return probe


def wait_http(url: str, proc: subprocess.Popen | None = None, *, what: str | None = None) -> None:
    """Until `url` answers at all (any status). Fails at once if `proc` exits, or when it stalls."""
    import requests

    def answers() -> bool:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode} before {url} answered: {proc.args}")
        try:
            requests.get(url, timeout=HTTP_TIMEOUT)
            return True
        except requests.ConnectionError:
            return False

    wait_until(answers, what=what or f"waiting for {url}", progress=cpu_of(proc) if proc is not None else None)


def wait_exit(proc: subprocess.Popen, *, what: str | None = None) -> int:
    """Until the process exits (it may take as long as it keeps using CPU); its exit code."""
    wait_until(lambda: proc.poll() is not None, what=what or f"waiting for {proc.args} to exit",
               progress=cpu_of(proc))
    return proc.returncode


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> int | None:
    """Teardown: send `sig`, wait while the process works on its exit, SIGKILL it if it stalls."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            wait_exit(proc, what=f"{proc.args} after signal {sig}")
        except Stalled:
            proc.kill()
            proc.wait()
    return proc.returncode


def run(args: list[str], *, check: bool = False, **kwargs) -> subprocess.CompletedProcess:
    """`subprocess.run(args, capture_output=True, text=True, **kwargs)`, failing only on a stall."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err, **kwargs)

        def moving():
            return cpu_of(proc)(), os.fstat(out.fileno()).st_size, os.fstat(err.fileno()).st_size

        try:
            wait_until(lambda: proc.poll() is not None, what=f"running {args}", progress=moving)
        except Stalled:
            proc.kill()
            proc.wait()
            raise
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    result = subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)
    if check:
        result.check_returncode()
    return result
