"""SMS through the gateway at `SMS_API_BASE` (the mock serves `POST /sms/v1/send` under its own prefix).

Request: `Authorization: Bearer <SMS_API_KEY>`, JSON {phone, sign, template, params}. Answers: 200
{"code": "OK", "message_id"} → ok; timeouts, connection errors, 5xx and 429 → retry; any other 4xx →
failed (bad phone, bad template, bad key: retrying cannot help).
"""

from __future__ import annotations

import re

import requests

from notifications.channels import Outcome
from notifications.errors import FAILED, OK, RETRY

CHANNEL = "sms"
SIGN = "民政零跑"
MOBILE = re.compile(r"1[0-9]{10}")


class SmsClient:
    def __init__(self, cfg, http: requests.Session | None = None):
        self.base = (cfg.sms_api_base or cfg.wechat_api_base).rstrip("/")
        self.key = cfg.sms_api_key
        self.timeout = cfg.http_timeout
        self.http = http or requests.Session()

    def send(self, phone: str, template: str, params: dict) -> Outcome:
        try:
            resp = self.http.post(self.base + "/sms/v1/send", json={"phone": phone, "sign": SIGN,
                                                                    "template": template, "params": params},
                                  headers={"Authorization": f"Bearer {self.key}"}, timeout=self.timeout,
                                  allow_redirects=False)
        except requests.RequestException as exc:
            return Outcome(RETRY, CHANNEL, errcode="transport", error=f"sms transport: {type(exc).__name__}")
        try:
            body = resp.json()
        except ValueError:
            body = {}
        code = body.get("code") if isinstance(body, dict) else None
        if resp.status_code == 200 and code == "OK":
            return Outcome(OK, CHANNEL, msgid=str(body.get("message_id", ""))[:40] or None, errcode=0)
        verdict = RETRY if resp.status_code >= 500 or resp.status_code == 429 else FAILED
        return Outcome(verdict, CHANNEL, errcode=f"http{resp.status_code}",
                       error=f"sms http {resp.status_code} {str(code)[:40]}")


def usable_phone(phone: str | None) -> str | None:
    return phone if phone and MOBILE.fullmatch(phone) else None
