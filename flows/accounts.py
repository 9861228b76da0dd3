"""Sign-in with WeChat: exchange the mini-program login code for an openid, find or create the account."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import TooManyAttempts, Unauthorized, UpstreamUnavailable
from app.models import Account
from notifications.wechat_client import WeChatError, WeChatTransportError

CODE_ERRORS = {40029, 40163}
BLOCKED = 40226  # WeChat's risk control blocks this user: another wx.login does not help


def login_with_wechat(session: Session, client, code: str) -> Account:
    try:
        ids = client.code2session(code)
    except WeChatError as exc:
        if exc.errcode in CODE_ERRORS:
            raise Unauthorized("The WeChat login code is invalid, used or expired; call wx.login again.") from None
        if exc.errcode == BLOCKED:
            raise Unauthorized("WeChat's risk control has blocked this WeChat user from signing in; a new login "
                               "will not help. Ask at the counter, or sign in with another WeChat account.",
                               error_code="wechat_user_blocked") from None
        if exc.errcode == 45011:
            raise TooManyAttempts("WeChat is limiting sign-ins; try again in a minute.", 60) from None
        raise UpstreamUnavailable("WeChat could not sign you in right now; try again shortly.") from None
    except WeChatTransportError:
        raise UpstreamUnavailable("WeChat could not be reached; try again shortly.") from None
    account = session.execute(select(Account).where(Account.openid == ids["openid"])).scalar()
    if account is None:
        account = Account(openid=ids["openid"], unionid=ids.get("unionid"), kind="citizen")
        session.add(account)
    if account.disabled_at is not None:
        raise Unauthorized("The account is disabled.")
    account.last_login_at = utcnow()
    session.flush()
    return account
