"""Ports for the servers a test starts: distinct within a run, disjoint between xdist workers.

`bind(("127.0.0.1", 0))` and close hands out a port that the kernel may hand out again, to this process or to
another worker, before the server binds it: CI once started an API on the mock's port, the API's gunicorn kept
retrying the bind and the readiness check was answered (404) by the mock. So each worker draws from its own
block below the ephemeral range (32768–60999 here, where outgoing connections take theirs), starts at an offset
chosen by its pid (two test runs side by side rarely meet) and never hands out the same port twice; a port
something already holds is skipped.
"""

from __future__ import annotations

import itertools
import os
import socket

FIRST, BLOCK, BLOCKS = 20000, 1000, 12  # ports 20000–31999: one block per xdist worker, the controller's last


def _block() -> int:
    """gw0 → 0, gw1 → 1, …; the controller (no xdist) takes the last block."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    number = worker.removeprefix("gw")
    return int(number) % (BLOCKS - 1) if worker.startswith("gw") and number.isascii() and number.isdigit() \
        else BLOCKS - 1


_counter = itertools.count((os.getpid() * 37) % BLOCK)


def free_port() -> int:
    base = FIRST + _block() * BLOCK
    for _ in range(BLOCK):
        port = base + next(_counter) % BLOCK
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {base}–{base + BLOCK - 1}")
