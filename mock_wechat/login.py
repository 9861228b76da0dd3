"""GET /sns/jscode2session (code2Session) and minting of login codes for the console.

A login code is single-use (reuse → 40163) and valid `code_ttl_s` (300 s; later or unknown → 40029).
A missing js_code → 41008. grant_type may be omitted; any other value than authorization_code → 40002.
"""

from flask import Blueprint, request

from . import ids
from .store import LoginCode, Store, User, get_store
from .tokens import check_credentials
from .wire import WeChatError, field, wechat_json

bp = Blueprint("login", __name__)


def register_user(store: Store, openid: str | None) -> User:
    users = store.state.users
    openid = openid or ids.openid()
    if openid not in users:
        users[openid] = User(openid=openid, unionid=ids.unionid())
    return users[openid]


def mint_login_code(store: Store, openid: str | None) -> dict:
    user = register_user(store, openid)
    code = ids.login_code()
    store.state.login_codes[code] = LoginCode(openid=user.openid, created_at=store.now())
    return {"openid": user.openid, "unionid": user.unionid, "code": code}


def redeem(store: Store, code: str) -> User:
    record = store.state.login_codes.get(code)
    if record is None:
        raise WeChatError(40029)
    if record.used:
        raise WeChatError(40163)
    if store.now() - record.created_at > store.settings["code_ttl_s"]:
        raise WeChatError(40029)
    record.used = True
    user = store.state.users[record.openid]
    user.session_key = ids.session_key()
    return user


@bp.get("/sns/jscode2session")
def jscode2session():
    store = get_store()
    args = request.args
    grant_type = field(args, "grant_type") or "authorization_code"
    check_credentials(store, field(args, "appid"), field(args, "secret"), grant_type, "authorization_code")
    code = field(args, "js_code")
    if not code:
        raise WeChatError(41008)
    with store.lock:
        user = redeem(store, code)
        return wechat_json({"openid": user.openid, "session_key": user.session_key, "unionid": user.unionid})
