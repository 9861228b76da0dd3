"""What a provider answer means for an outbox row: one table, used by every channel.

`classify(errcode)` → a `Verdict`: `ok`, `retry` (transient: back to `pending` with capped exponential
backoff and jitter), `no_quota` (the citizen has no grant / refused: fall back to the next channel, never
retry WeChat) or `failed` (permanent: never retried, alert). Token errors (40001/40014/42001) are
refreshed once inside the WeChat client; if the retried call still fails they count as `retry`.
Unknown errcodes are treated as permanent (a blind retry could spend a one-time grant twice).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

OK, RETRY, NO_QUOTA, FAILED = "ok", "retry", "no_quota", "failed"

# errcode → (verdict, minimum delay before the next attempt in seconds, meaning)
ERRCODES: dict[int, tuple[str, float, str]] = {
    0: (OK, 0, "ok"),
    -1: (RETRY, 0, "system busy"),
    40001: (RETRY, 0, "access_token invalid (refreshed once already)"),
    40014: (RETRY, 0, "access_token invalid (refreshed once already)"),
    42001: (RETRY, 0, "access_token expired (refreshed once already)"),
    43108: (RETRY, 0, "concurrent sends to the same user"),
    45009: (RETRY, 3600, "daily API quota reached"),
    45011: (RETRY, 60, "minute API quota reached"),
    43101: (NO_QUOTA, 0, "user refused / no subscription grant left"),
    40003: (FAILED, 0, "invalid openid"),
    40037: (FAILED, 0, "invalid template_id"),
    41030: (FAILED, 0, "invalid page"),
    43107: (FAILED, 0, "subscribe messages banned for this account or template"),
    44002: (FAILED, 0, "empty post data"),
    45168: (FAILED, 0, "sensitive word"),
    47001: (FAILED, 0, "data format error"),
    47003: (FAILED, 0, "template data value invalid"),
}
TRANSPORT = "transport"  # timeouts, connection errors, HTTP 5xx, malformed bodies
UNKNOWN_VERDICT = (FAILED, 0, "unknown errcode")


@dataclass(frozen=True)
class Verdict:
    kind: str
    min_delay: float
    meaning: str


def classify(errcode: int | str) -> Verdict:
    """`errcode` is a WeChat errcode, or TRANSPORT for a call without a usable answer."""
    if errcode == TRANSPORT:
        return Verdict(RETRY, 0, "no usable answer (timeout, connection, 5xx)")
    return Verdict(*ERRCODES.get(int(errcode), UNKNOWN_VERDICT))


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff with jitter: base·2^(n-1) times a factor in [1-jitter, 1], at least the
    errcode's minimum delay (60 s for 45011, 1 h for 45009), never more than `cap`."""

    base: float = 30.0
    cap: float = 3600.0
    jitter: float = 0.5

    def delay(self, attempts: int, min_delay: float = 0.0, rng: random.Random | None = None) -> float:
        raw = min(self.cap, self.base * (2 ** max(0, attempts - 1)))
        factor = 1.0 - self.jitter * (rng or random).random()
        return min(self.cap, max(min_delay, raw * factor))

    def next_at(self, now: datetime, attempts: int, min_delay: float = 0.0, rng=None) -> datetime:
        return now + timedelta(seconds=self.delay(attempts, min_delay, rng))
