"""Fault injection on the business APIs (POST /__mock__/faults sets it, DELETE clears it).

Config (JSON): `errors` {errcode: probability}, `drop_rate`, `timeout_rate`, `latency_ms`,
`timeout_sleep_s` (default: setting `timeout_sleep_s`, 10), `seed` (deterministic draws),
`only_paths` (exact request paths; default: subscribe/send, getuserphonenumber, getwxacodeunlimit,
/sms/v1/send), `script` (a list of outcomes — an errcode, "drop", "timeout" or null for "no fault" — used
one per matching request, in order, before any draw; per path when given as {path: [...]}).
`GET /__mock__/faults` also reports `calls`: matching requests seen per path since the config was set
(faulted ones included), so a test can count the calls a client made. Probabilities are checked against one uniform draw per request, in the order drop,
timeout, then errors as given; their sum must be ≤ 1. `latency_ms` delays every matching request.

Effects, all before the handler runs (so no grant is spent, no message or SMS recorded):
- errcode N → WeChat error JSON N (on /sms/ → HTTP 500 `{"code": "SYSTEM_ERROR", "fault": N}`);
  for 40001/40014 every live token is revoked, for 42001 every live token expires now, so the client
  really has to fetch a new one.
- timeout → sleep `timeout_sleep_s`, then errcode -1 (SMS: HTTP 504).
- drop → the socket is shut down (werkzeug's `werkzeug.socket` or gunicorn's `gunicorn.socket`) and
  the client sees the connection close with no response. Without a socket (Flask test client) the
  fallback is HTTP 503 with an empty body.
"""

import random
import socket
import time
from dataclasses import dataclass, field

from flask import Response, jsonify, request

from .store import Store, get_store
from .tokens import invalidate_all
from .wire import wechat_error

DEFAULT_PATHS = ("/cgi-bin/message/subscribe/send", "/wxa/business/getuserphonenumber",
                 "/wxa/getwxacodeunlimit", "/sms/v1/send")
TOKEN_CODES = (40001, 40014, 42001)


@dataclass
class FaultConfig:
    errors: dict[int, float] = field(default_factory=dict)
    latency_ms: int = 0
    timeout_rate: float = 0.0
    timeout_sleep_s: float | None = None
    drop_rate: float = 0.0
    seed: int | None = None
    only_paths: list[str] | None = None
    script: dict[str, list] = field(default_factory=dict)  # path ("*" = any matching path) → outcomes left
    calls: dict[str, int] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def as_dict(self) -> dict:
        return {"errors": {str(k): v for k, v in self.errors.items()}, "latency_ms": self.latency_ms,
                "timeout_rate": self.timeout_rate, "timeout_sleep_s": self.timeout_sleep_s,
                "drop_rate": self.drop_rate, "seed": self.seed, "only_paths": self.only_paths,
                "script": {k: list(v) for k, v in self.script.items()}, "calls": dict(self.calls)}


def _probability(value) -> float:
    p = float(value)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"probability out of range: {value}")
    return p


def parse(body: dict) -> FaultConfig:
    """Build a FaultConfig from JSON; ValueError/TypeError on bad input."""
    errors = {int(k): _probability(v) for k, v in (body.get("errors") or {}).items()}
    config = FaultConfig(errors=errors, latency_ms=int(body.get("latency_ms") or 0),
                         timeout_rate=_probability(body.get("timeout_rate") or 0),
                         drop_rate=_probability(body.get("drop_rate") or 0), seed=body.get("seed"),
                         only_paths=body.get("only_paths") or None)
    script = body.get("script") or {}
    if isinstance(script, list):
        script = {"*": script}
    for outcomes in script.values():
        for outcome in outcomes:
            if outcome not in (None, "drop", "timeout"):
                int(outcome)
    config.script = {str(path): [o if o in (None, "drop", "timeout") else int(o) for o in outcomes]
                     for path, outcomes in script.items()}
    if body.get("timeout_sleep_s") is not None:
        config.timeout_sleep_s = float(body["timeout_sleep_s"])
    if sum(errors.values()) + config.timeout_rate + config.drop_rate > 1.0 + 1e-9:
        raise ValueError("fault probabilities add up to more than 1")
    config.rng = random.Random(config.seed)
    return config


def decide(config: FaultConfig | None, path: str) -> str | int | None:
    """"drop", "timeout", an errcode, or None (no fault) for one request."""
    if config is None or path not in (config.only_paths or DEFAULT_PATHS):
        return None
    config.calls[path] = config.calls.get(path, 0) + 1
    for key in (path, "*"):
        if config.script.get(key):
            return config.script[key].pop(0)
    draw = config.rng.random()
    for outcome, p in [("drop", config.drop_rate), ("timeout", config.timeout_rate), *config.errors.items()]:
        if draw < p:
            return outcome
        draw -= p
    return None


def _error(errcode: int, http_status: int = 500):
    if request.path.startswith("/sms/"):
        return jsonify({"code": "SYSTEM_ERROR", "fault": errcode}), http_status
    return wechat_error(errcode)


def drop_connection() -> Response:
    sock = request.environ.get("werkzeug.socket") or request.environ.get("gunicorn.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    return Response(b"", status=503)


def _draw(store: Store):
    with store.lock:
        config = store.state.faults
        outcome = decide(config, request.path)
        if outcome in TOKEN_CODES:
            invalidate_all(store, outcome)
        sleep_s = config.timeout_sleep_s if config and config.timeout_sleep_s is not None \
            else store.settings["timeout_sleep_s"]
        latency_s = config.latency_ms / 1000.0 if _matches(config) else 0.0
    return outcome, latency_s, sleep_s


def _matches(config: FaultConfig | None) -> bool:
    return config is not None and request.path in (config.only_paths or DEFAULT_PATHS)


def apply_faults():
    """before_request hook: None lets the request through, a response short-circuits it."""
    outcome, latency_s, sleep_s = _draw(get_store())
    if latency_s:
        time.sleep(latency_s)
    if outcome == "drop":
        return drop_connection()
    if outcome == "timeout":
        time.sleep(sleep_s)
        return _error(-1, 504)
    if outcome is not None:
        return _error(outcome)
    return None
