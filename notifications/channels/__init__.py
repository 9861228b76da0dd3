"""Delivery channels. Each turns one provider call into an `Outcome` classified by notifications.errors."""

from __future__ import annotations

from dataclasses import dataclass

from notifications.errors import FAILED, NO_QUOTA, OK, RETRY  # noqa: F401  (re-exported verdicts)


@dataclass
class Outcome:
    verdict: str  # ok | retry | no_quota | failed
    channel: str
    msgid: str | None = None
    errcode: int | str | None = None
    error: str | None = None
    min_delay: float = 0.0
