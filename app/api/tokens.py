"""Our own session tokens: short-lived JWT access tokens, opaque rotating refresh tokens.

Algorithms are pinned (HS256 only); `exp`, `iat`, `aud`, `sub`, `sid` and `typ` are required; every access
token names its sign-in session, so logout or a detected refresh-token reuse ends it at once.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import jwt
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from app import audit
from app.db import select_first, utcnow
from app.errors import Unauthorized
from app.models import Account, AuthSession, RefreshToken

ALGORITHMS = ["HS256"]
CITIZEN_AUDIENCE = "zerotrip-citizen"
STAFF_AUDIENCE = "zerotrip-staff"
AUDIENCES = {"citizen": CITIZEN_AUDIENCE, "staff": STAFF_AUDIENCE}
REQUIRED_CLAIMS = ["exp", "iat", "aud", "sub", "sid", "typ"]
STAFF_ACCESS_TTL = 15 * 60
STAFF_SESSION_TTL = 8 * 3600


def request_context() -> dict:
    """Request id and source address for audit events (empty outside a request)."""
    from flask import g, has_request_context

    if not has_request_context():
        return {}
    from app.api.security import client_ip

    return {"request_id": g.get("request_id"), "source_ip": client_ip()}


def audience_for(account: Account) -> str:
    return AUDIENCES.get(account.kind or "citizen", "zerotrip-unknown")


def _access_ttl(cfg, account: Account) -> int:
    return min(cfg.access_token_ttl, STAFF_ACCESS_TTL) if account.kind == "staff" else cfg.access_token_ttl


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_access_token(cfg, account: Account, auth_session: AuthSession, audience: str | None = None) -> str:
    now = utcnow()
    claims = {
        "sub": account.id,
        "sid": auth_session.id,
        "typ": "access",
        "aud": audience or audience_for(account),
        "iat": int(_epoch(now)),
        "exp": int(_epoch(now)) + _access_ttl(cfg, account),
        "jti": secrets.token_hex(8),
    }
    kid, key = cfg.signing_keyring[0]
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid})


def _verification_key(cfg, token: str) -> bytes:
    """The key named by the token's `kid` (any key of the ring: rotation); unknown kid → 401. A token
    without a kid (issued before kids existed) is checked against the signing key."""
    kid = _kid_of(token.partition(".")[0])
    ring = cfg.signing_keyring
    if kid is None:
        return ring[0][1]
    for known, key in ring:
        if known == kid:
            return key
    from app import security_log

    security_log.refused("token_kid_unknown", address=request_context().get("source_ip"))
    raise Unauthorized("The access token is not valid.")


@functools.lru_cache(maxsize=64)  # every token of one key has the same header segment; a refusal is not kept
def _kid_of(header_segment: str) -> str | None:
    """The `kid` of a JWT header segment, parsed once per distinct segment (PyJWT's own parser and checks);
    the signature is still checked on every token by `jwt.decode`, which parses the header again."""
    try:
        kid = jwt.get_unverified_header(header_segment + ".e30.").get("kid")
    except jwt.PyJWTError:
        raise Unauthorized("The access token is not valid.") from None
    if not isinstance(kid, str | None):
        raise Unauthorized("The access token is not valid.")
    return kid


def _epoch(naive_utc) -> float:
    from datetime import UTC

    return naive_utc.replace(tzinfo=UTC).timestamp()


def start_session(session: Session, cfg, account: Account) -> dict:
    """A new sign-in: a session (token family) plus the first access and refresh tokens."""
    ttl = STAFF_SESSION_TTL if account.kind == "staff" else cfg.refresh_token_ttl
    auth = AuthSession(account_id=account.id, expires_at=utcnow() + timedelta(seconds=ttl))
    session.add(auth)
    session.flush()
    audit.record(session, actor=_actor(account), action="auth.login", object_ref=f"session:{auth.id}",
                 **request_context())
    return _token_pair(session, cfg, account, auth)


def _actor(account: Account) -> str:
    return f"account:{account.id}"


def _token_pair(session: Session, cfg, account: Account, auth: AuthSession) -> dict:
    refresh = secrets.token_urlsafe(32)
    session.add(RefreshToken(token_hash=_hash(refresh), session_id=auth.id))
    return {
        "access_token": issue_access_token(cfg, account, auth),
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": _access_ttl(cfg, account),
    }


def rotate_refresh_token(session: Session, cfg, refresh: str, kind: str = "citizen",
                         context: dict | None = None) -> tuple[Account, dict]:
    """Spend a refresh token once. A token presented twice revokes its whole family (reuse detection) and
    writes a security event to the audit trail."""
    token = session.get(RefreshToken, _hash(refresh or ""))
    if token is None:
        raise Unauthorized("The refresh token is not valid.")
    owner = session.get(Account, session.get(AuthSession, token.session_id).account_id)
    if owner is None or (owner.kind or "citizen") != kind:
        raise Unauthorized("The refresh token is not valid.")
    spent = session.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == token.token_hash, RefreshToken.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount
    auth = session.get(AuthSession, token.session_id)
    if not spent:
        revoke_session(session, auth, "refresh_reuse")
        audit.record(session, actor=f"account:{auth.account_id}", action="security.refresh_token_reuse",
                     object_ref=f"session:{auth.id}", result="family_revoked",
                     **(context if context is not None else request_context()))
        session.commit()
        raise Unauthorized("The refresh token was already used; the session has been ended.")
    account = session.get(Account, auth.account_id)
    if auth.revoked_at or auth.expires_at <= utcnow() or account is None or account.disabled_at:
        raise Unauthorized("The session has ended; sign in again.")
    return account, _token_pair(session, cfg, account, auth)


def revoke_session(session: Session, auth: AuthSession | None, reason: str) -> None:
    if auth is not None and auth.revoked_at is None:
        auth.revoked_at, auth.revoked_reason = utcnow(), reason
        audit.record(session, actor=f"account:{auth.account_id}", action=f"auth.session_end.{reason}"[:64],
                     object_ref=f"session:{auth.id}", **request_context())


@dataclass(frozen=True)
class Principal:
    """Who a verified access token speaks for, read in one query (no ORM objects on the hot path)."""

    account_id: str
    kind: str
    resident_id: int | None
    session_id: str


@functools.cache
def _live_session_query():
    """The sign-in session and its account in ONE round trip, read fresh on every request: a revoked session
    or a disabled account is refused on the very next request, in every process. Built once (bound `sid`)."""
    s, a = AuthSession.__table__.c, Account.__table__.c
    return (select(s.account_id, s.revoked_at, s.expires_at, a.id.label("account"), a.kind, a.resident_id,
                   a.disabled_at)
            .select_from(AuthSession.__table__.outerjoin(Account.__table__, a.id == s.account_id))
            .where(s.id == bindparam("sid")))


LEEWAY = 5
_VERIFIED: dict[tuple, dict] = {}  # (key ring, audience, token) → claims whose signature and format checked out
_VERIFIED_MAX = 50_000


def _decode(cfg, token: str, audience: str) -> dict:
    key = _verification_key(cfg, token)
    try:
        return jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            audience=audience,
            options={"require": REQUIRED_CLAIMS},
            leeway=LEEWAY,
        )
    except jwt.PyJWTError:
        raise Unauthorized("The access token is not valid.") from None


def verified_claims(cfg, token: str, audience: str) -> dict:
    """The token's claims, its signature and claims checked by PyJWT once per process (a token's content never
    changes); only `exp` can turn a checked token invalid, so a repeat checks just that. Whether its sign-in is
    still live is never cached: `verify_access` reads that from the database on every request."""
    cache_key = (cfg.signing_keyring, audience, token)
    claims = _VERIFIED.get(cache_key)
    if claims is None:
        claims = _decode(cfg, token, audience)
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[cache_key] = claims
    elif int(claims["exp"]) <= time.time() - LEEWAY:
        raise Unauthorized("The access token is not valid.")
    return claims


def verify_access(session: Session, cfg, token: str, audience: str = CITIZEN_AUDIENCE) -> Principal:
    """Pinned algorithm, required claims, the right audience and type, a live session, an enabled account."""
    claims = verified_claims(cfg, token, audience)
    if claims.get("typ") != "access":
        raise Unauthorized("The access token is not valid.")
    row = select_first(session, _live_session_query(), {"sid": str(claims["sid"])})
    if (row is None or row.revoked_at is not None or row.account_id != claims["sub"]
            or row.expires_at <= utcnow()):
        raise Unauthorized("The session has ended; sign in again.")
    if row.account is None or row.disabled_at is not None:
        raise Unauthorized("The account is disabled.")
    if AUDIENCES.get(row.kind or "citizen", "zerotrip-unknown") != audience:
        raise Unauthorized("The access token is not valid.")
    return Principal(account_id=row.account, kind=row.kind or "citizen", resident_id=row.resident_id,
                     session_id=str(claims["sid"]))
