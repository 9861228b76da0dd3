"""HTTP client for the WeChat server API (real or mock: only `WECHAT_API_BASE` differs).

The access token is cached in the database (one row per app id) so one owner refreshes it; on
40001/40014/42001 the token is refreshed once through `POST /cgi-bin/stable_token` and the call retried.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from sqlalchemy import text, update

from app.db import session_factory, utcnow
from app.models import WechatToken

log = logging.getLogger(__name__)
TOKEN_ERRORS = {40001, 40014, 42001}
REFRESH_MARGIN = timedelta(minutes=5)
_ADVISORY_KEY = 0x5A54_574B  # "ZTWK": the WeChat token refresh


def _fresh(expires_at: datetime, issued_at: datetime | None, now: datetime) -> bool:
    """Still usable with a margin: 5 minutes, or half the lifetime for short-lived (test) tokens."""
    lifetime = (expires_at - issued_at) if issued_at else REFRESH_MARGIN * 2
    return expires_at - min(REFRESH_MARGIN, lifetime / 2) > now


class WeChatError(Exception):
    """WeChat answered with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"errcode={errcode} {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg


class WeChatTransportError(Exception):
    """No usable answer: timeout, connection error, 5xx, malformed body."""


class TokenUnavailable(WeChatTransportError):
    """The access token could not be had (the token endpoint answered an errcode: an IP not on the allow list,
    a wrong secret, a frozen app): nothing was sent, and every message waits for the fix, none fails for it."""

    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"access token not available: errcode {errcode} {errmsg[:100]}")
        self.errcode = errcode


@dataclass
class PhoneInfo:
    phone: str
    country_code: str


class WeChatClient:
    def __init__(self, cfg, http: requests.Session | None = None):
        self.cfg = cfg
        self.base = cfg.wechat_api_base.rstrip("/")
        self.http = http or requests.Session()
        self.timeout = cfg.http_timeout
        self._sessions = session_factory(cfg)
        self._lock = threading.Lock()
        self._token: tuple[str, datetime, datetime] | None = None  # (token, expires_at, issued_at)
        self.refreshes = 0

    # -- transport ---------------------------------------------------------------------------------
    def _request(self, method: str, path: str, *, params=None, body=None, raw: bool = False):
        try:
            resp = self.http.request(
                method,
                self.base + path,
                params=params,
                data=None if body is None else json.dumps(body, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/json"} if body is not None else None,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise WeChatTransportError(type(exc).__name__) from None
        if resp.status_code >= 300:
            raise WeChatTransportError(f"http {resp.status_code}")
        is_json = resp.headers.get("Content-Type", "").startswith("application/json")
        if raw and not is_json:
            return resp.content
        try:
            payload = resp.json()
        except ValueError:
            raise WeChatTransportError("malformed body") from None
        if not isinstance(payload, dict):
            raise WeChatTransportError("malformed body")
        errcode = int(payload.get("errcode") or 0)
        if errcode:
            raise WeChatError(errcode, str(payload.get("errmsg", "")))
        return payload

    # -- access token ------------------------------------------------------------------------------
    # One owner refreshes (NT-7): threads share the cached token under `_lock`; processes share the
    # database row and take a database lock (PostgreSQL advisory lock / SQLite write lock) around a
    # refresh, re-reading the row inside it, so N processes that all see 42001 call stable_token once.
    def access_token(self, force: bool = False) -> str:
        with self._lock:
            now = utcnow()
            if not force and self._token and _fresh(self._token[1], self._token[2], now):
                return self._token[0]
            with self._sessions() as s:
                row = s.get(WechatToken, self.cfg.wechat_appid)
                if not force and row and _fresh(row.expires_at, row.updated_at, now):
                    self._token = (row.access_token, row.expires_at, row.updated_at)
                    return row.access_token
            return self._refresh_locked(failed_token=None, force=force)

    def _db_lock(self, s) -> None:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})
        else:  # any write takes SQLite's database write lock until commit
            s.execute(update(WechatToken).where(WechatToken.appid == self.cfg.wechat_appid)
                      .values(updated_at=WechatToken.updated_at))

    def _refresh_locked(self, failed_token: str | None, force: bool) -> str:
        """Refresh under the database lock unless another process already did (caller holds `_lock`)."""
        with self._sessions() as s:
            self._db_lock(s)
            row = s.get(WechatToken, self.cfg.wechat_appid)
            now = utcnow()
            if row and _fresh(row.expires_at, row.updated_at, now) and (
                (failed_token and row.access_token != failed_token) or (not failed_token and not force)
            ):
                self._token = (row.access_token, row.expires_at, row.updated_at)
                s.commit()
                return row.access_token
            body = {
                "grant_type": "client_credential",
                "appid": self.cfg.wechat_appid,
                "secret": self.cfg.wechat_secret,
                "force_refresh": bool(force or failed_token),
            }
            try:
                payload = self._request("POST", "/cgi-bin/stable_token", body=body)
            except WeChatError as exc:  # the token endpoint's own refusal, not the call's
                raise TokenUnavailable(exc.errcode, exc.errmsg) from None
            token = payload["access_token"]
            expires_at = utcnow() + timedelta(seconds=int(payload["expires_in"]))
            issued = utcnow()
            row = row or WechatToken(appid=self.cfg.wechat_appid)
            row.access_token, row.expires_at, row.updated_at = token, expires_at, issued
            s.merge(row)
            s.commit()
        self.refreshes += 1
        self._token = (token, expires_at, issued)
        return token

    def refresh_after_failure(self, failed_token: str) -> str:
        """The token `failed_token` was rejected: return a newer one (refreshing at most once)."""
        with self._lock:
            if self._token and self._token[0] != failed_token and self._token[1] > utcnow():
                return self._token[0]
            self._token = None
            return self._refresh_locked(failed_token=failed_token, force=True)

    def invalidate(self, failed_token: str) -> None:
        with self._lock:
            if self._token and self._token[0] == failed_token:
                self._token = None

    def _with_token(self, method: str, path: str, body=None, raw: bool = False):
        token = self.access_token()
        try:
            return self._request(method, path, params={"access_token": token}, body=body, raw=raw)
        except WeChatError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            log.info("wechat token rejected (errcode=%s); refreshing once", exc.errcode)
            token = self.refresh_after_failure(token)
            return self._request(method, path, params={"access_token": token}, body=body, raw=raw)

    # -- business APIs ------------------------------------------------------------------------------
    def code2session(self, js_code: str) -> dict:
        params = {
            "appid": self.cfg.wechat_appid,
            "secret": self.cfg.wechat_secret,
            "js_code": js_code,
            "grant_type": "authorization_code",
        }
        payload = self._request("GET", "/sns/jscode2session", params=params)
        if not payload.get("openid"):
            raise WeChatTransportError("no openid in jscode2session answer")
        return {"openid": payload["openid"], "unionid": payload.get("unionid")}

    def phone_number(self, phone_code: str, openid: str | None = None) -> PhoneInfo:
        body = {"code": phone_code}
        if openid:
            body["openid"] = openid
        info = self._with_token("POST", "/wxa/business/getuserphonenumber", body=body).get("phone_info") or {}
        phone = str(info.get("purePhoneNumber") or "")
        if not phone:
            raise WeChatTransportError("no phone_info in answer")
        return PhoneInfo(phone=phone, country_code=str(info.get("countryCode", "86")))

    def send_subscribe(self, touser: str, template_id: str, data: dict, page: str | None = None) -> str:
        body = {"touser": touser, "template_id": template_id, "data": data}
        if page:
            body["page"] = page
        payload = self._with_token("POST", "/cgi-bin/message/subscribe/send", body=body)
        return str(payload.get("msgid", ""))

    def templates(self) -> list[dict]:
        return self._with_token("GET", "/wxaapi/newtmpl/gettemplate").get("data", [])

    def wxacode_unlimited(self, scene: str, page: str | None = None, check_path: bool = False) -> bytes:
        body = {"scene": scene, "check_path": check_path}
        if page:
            body["page"] = page
        data = self._with_token("POST", "/wxa/getwxacodeunlimit", body=body, raw=True)
        if isinstance(data, dict):
            raise WeChatTransportError("expected image bytes")
        return data


_clients: dict[tuple, WeChatClient] = {}


def client_for(cfg) -> WeChatClient:
    key = (cfg.wechat_api_base, cfg.wechat_appid, cfg.database_url)
    if key not in _clients:
        _clients[key] = WeChatClient(cfg)
    return _clients[key]
