"""Access tokens: GET /cgi-bin/token, POST /cgi-bin/stable_token, and the check business APIs use.

Rules (see design/wechat-api.md §2):
- /cgi-bin/token issues a new token on every call; the previous one keeps working for
  `token_grace_s` (300 s), then answers 40001. Tokens older than the previous one are revoked at once.
- stable_token returns the same token while it has more than min(300, lifetime/2) s left; inside that
  window it issues a new one (the old one lives until its own expiry). force_refresh revokes the
  current stable token and issues a new one (the 20/day, 30 s-apart limits are not enforced).
- The two families are independent. Missing → 41001, unknown/superseded/revoked → 40001,
  past lifetime → 42001.
"""

from flask import Blueprint, request

from . import ids
from .store import Store, TokenRecord, get_store
from .wire import WeChatError, field, json_body, wechat_json

bp = Blueprint("tokens", __name__)


def check_credentials(store: Store, appid, secret, grant_type, expected_grant: str) -> None:
    if not appid:
        raise WeChatError(41002)
    if not secret:
        raise WeChatError(41004)
    if grant_type != expected_grant:
        raise WeChatError(40002)
    if appid != store.settings["appid"]:
        raise WeChatError(40013)
    if secret != store.settings["secret"]:
        raise WeChatError(40125)


def _new_token(store: Store, kind: str) -> TokenRecord:
    lifetime = store.settings["token_lifetime_s"]
    record = TokenRecord(token=ids.access_token(), kind=kind, expires_at=store.now() + lifetime)
    store.state.tokens[record.token] = record
    return record


def _revoke(store: Store, token: str | None) -> None:
    if token in store.state.tokens:
        store.state.tokens[token].revoked = True


def rotate_basic(store: Store) -> TokenRecord:
    state = store.state
    _revoke(store, state.previous_basic)
    if state.current_basic:
        state.tokens[state.current_basic].superseded_at = store.now()
    record = _new_token(store, "basic")
    state.previous_basic, state.current_basic = state.current_basic, record.token
    return record


def stable(store: Store, force: bool) -> TokenRecord:
    state = store.state
    current = state.tokens.get(state.current_stable)
    if force:
        _revoke(store, state.current_stable)
    elif current and token_error(store, current) is None and _remaining(store, current) > _window(store):
        return current
    record = _new_token(store, "stable")
    state.current_stable = record.token
    return record


def _remaining(store: Store, record: TokenRecord) -> float:
    return record.expires_at - store.now()


def _window(store: Store) -> float:
    return min(300.0, store.settings["token_lifetime_s"] / 2)


def token_error(store: Store, record: TokenRecord | None) -> int | None:
    now = store.now()
    if record is None or record.revoked:
        return 40001
    if now >= record.expires_at:
        return 42001
    if record.superseded_at is not None and now >= record.superseded_at + store.settings["token_grace_s"]:
        return 40001
    return None


def require_token() -> None:
    """Check the `access_token` URL parameter of a business API call; raise the WeChat error."""
    token = field(request.args, "access_token")
    if not token:
        raise WeChatError(41001)
    store = get_store()
    with store.lock:
        errcode = token_error(store, store.state.tokens.get(token))
    if errcode:
        raise WeChatError(errcode)


def invalidate_all(store: Store, errcode: int) -> None:
    """Make every live token fail: 42001 → expire them now, anything else → revoke them."""
    now = store.now()
    for record in store.state.tokens.values():
        if errcode == 42001:
            record.expires_at = min(record.expires_at, now)
        else:
            record.revoked = True


def shorten_lifetime(store: Store, seconds: int) -> None:
    """New tokens live `seconds`; live tokens are cut to at most `seconds` from now."""
    store.settings["token_lifetime_s"] = seconds
    limit = store.now() + seconds
    for record in store.state.tokens.values():
        record.expires_at = min(record.expires_at, limit)


def _payload(store: Store, record: TokenRecord) -> dict:
    return {"access_token": record.token, "expires_in": max(0, round(_remaining(store, record)))}


@bp.get("/cgi-bin/token")
def get_token():
    store = get_store()
    args = request.args
    check_credentials(store, field(args, "appid"), field(args, "secret"), field(args, "grant_type"),
                      "client_credential")
    with store.lock:
        return wechat_json(_payload(store, rotate_basic(store)))


@bp.post("/cgi-bin/stable_token")
def stable_token():
    store = get_store()
    body = json_body()
    check_credentials(store, field(body, "appid"), field(body, "secret"), field(body, "grant_type"),
                      "client_credential")
    force = body.get("force_refresh") in (True, "true", 1)
    with store.lock:
        return wechat_json(_payload(store, stable(store, force)))
