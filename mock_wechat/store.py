"""Thread-safe in-memory state of the mock: one re-entrant lock guards everything.

Callers take `store.lock` around any read-modify-write of `store.state`. Time comes from the
injected `clock` (epoch seconds) so tests can move it forward.
"""

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app


@dataclass
class TokenRecord:
    token: str
    kind: str  # "basic" (/cgi-bin/token) or "stable" (/cgi-bin/stable_token)
    expires_at: float
    superseded_at: float | None = None
    revoked: bool = False


@dataclass
class User:
    openid: str
    unionid: str
    session_key: str | None = None


@dataclass
class LoginCode:
    openid: str
    created_at: float
    used: bool = False


@dataclass
class PhoneCode:
    phone: str
    country_code: str
    openid: str | None
    created_at: float
    used: bool = False


@dataclass
class State:
    settings: dict
    tokens: dict[str, TokenRecord] = field(default_factory=dict)
    current_basic: str | None = None
    previous_basic: str | None = None
    current_stable: str | None = None
    users: dict[str, User] = field(default_factory=dict)
    login_codes: dict[str, LoginCode] = field(default_factory=dict)
    phone_codes: dict[str, PhoneCode] = field(default_factory=dict)
    grants: dict[tuple[str, str], int] = field(default_factory=dict)
    refused: set[tuple[str, str]] = field(default_factory=set)
    banned: set[tuple[str, str]] = field(default_factory=set)
    messages: list[dict] = field(default_factory=list)
    sms: list[dict] = field(default_factory=list)
    pushes: list[dict] = field(default_factory=list)
    faults: object | None = None  # faults.FaultConfig


class Store:
    def __init__(self, settings: dict, clock=None):
        self.lock = threading.RLock()
        self.clock = clock or time.time
        self._initial = dict(settings)
        self.state = State(settings=dict(settings))

    def now(self) -> float:
        return self.clock()

    def iso_now(self) -> str:
        return datetime.fromtimestamp(self.now(), tz=UTC).isoformat()

    @property
    def settings(self) -> dict:
        return self.state.settings

    def reset(self) -> None:
        """Forget everything (tokens, users, codes, grants, messages, faults); restore boot settings."""
        with self.lock:
            self.state = State(settings=dict(self._initial))


def get_store() -> Store:
    return current_app.extensions["mock_wechat"]
