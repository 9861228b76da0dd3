"""The metric families the processes record (prometheus_client; multiprocess mode under gunicorn).

prometheus_client reads PROMETHEUS_MULTIPROC_DIR when it is first imported, so `zerotrip serve` (and
`zerotrip demo` for all its children) sets it before anything imports this module. Labels never hold
personal data: a route is the URL rule (`/api/v1/applications/<application_id>`), never the raw path.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter("zerotrip_http_requests", "HTTP requests by route (URL rule), method and status",
                   ["route", "method", "status"])
LATENCY = Histogram("zerotrip_http_request_duration_seconds", "HTTP request latency by route (URL rule)",
                    ["route", "method"],
                    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
REFUSALS = Counter("zerotrip_security_refusals", "Refusals by security rule (one per security log line)",
                   ["rule", "result"])
DISPATCH = Counter("zerotrip_dispatch_results", "Outbox send results by channel, verdict and error class",
                   ["channel", "result", "error_class"])
JOB_DURATION = Histogram("zerotrip_job_duration_seconds", "Scheduler job duration", ["job"],
                         buckets=(0.1, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200))
JOB_LAST_SUCCESS = Gauge("zerotrip_job_last_success_timestamp_seconds", "When a scheduler job last succeeded",
                         ["job"], multiprocess_mode="max")
JOB_LEASE_DEADLINE = Gauge("zerotrip_job_lease_deadline_timestamp_seconds",
                           "While a job runs: when its lease (TTL) expires; 0 when not running",
                           ["job"], multiprocess_mode="livemax")

KNOWN_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


_REQUEST_CHILDREN: dict[tuple, tuple] = {}  # (route, method, status) → its counter and histogram children


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    method = method if method in KNOWN_METHODS else "OTHER"
    key = (route, method, status)  # bounded: routes are URL rules, methods the known ones, statuses 3 digits
    children = _REQUEST_CHILDREN.get(key)
    if children is None:  # `labels()` takes a lock and builds its key on every call: done once per combination
        children = _REQUEST_CHILDREN.setdefault(key, (REQUESTS.labels(route, method, str(status)),
                                                      LATENCY.labels(route, method)))
    children[0].inc()
    children[1].observe(seconds)


def count_refusal(rule: str, result: str) -> None:
    REFUSALS.labels(rule, result).inc()


def count_dispatch(channel: str | None, result: str, error_class: str | None) -> None:
    DISPATCH.labels(channel or "none", result, error_class or "none").inc()


def listen_to_refusals() -> None:
    """Count every `app.security_log.refused` line (idempotent)."""
    from app import security_log

    if count_refusal not in security_log.listeners:
        security_log.listeners.append(count_refusal)


@contextmanager
def timed_job(job: str, lease_ttl: float | None = None) -> Iterator[None]:
    """Duration and last success of a scheduler job; while it runs, the deadline of its lease."""
    started = time.time()
    if lease_ttl:
        JOB_LEASE_DEADLINE.labels(job).set(started + lease_ttl)
    try:
        yield
        JOB_LAST_SUCCESS.labels(job).set(time.time())
    finally:
        JOB_DURATION.labels(job).observe(time.time() - started)
        JOB_LEASE_DEADLINE.labels(job).set(0)
