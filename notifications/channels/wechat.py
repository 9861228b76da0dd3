"""WeChat subscribe messages through notifications.wechat_client (token refresh is the client's job)."""

from __future__ import annotations

from notifications.channels import Outcome
from notifications.errors import OK, TRANSPORT, classify
from notifications.wechat_client import WeChatClient, WeChatError, WeChatTransportError

CHANNEL = "wechat"


def send(client: WeChatClient, openid: str, template_id: str, data: dict, page: str | None) -> Outcome:
    try:
        msgid = client.send_subscribe(openid, template_id, data, page)
    except WeChatError as exc:
        verdict = classify(exc.errcode)
        return Outcome(verdict.kind, CHANNEL, errcode=exc.errcode,
                       error=f"wechat {exc.errcode}: {verdict.meaning}", min_delay=verdict.min_delay)
    except WeChatTransportError as exc:
        verdict = classify(TRANSPORT)
        return Outcome(verdict.kind, CHANNEL, errcode=TRANSPORT, error=f"wechat transport: {exc}")
    return Outcome(OK, CHANNEL, msgid=msgid or None, errcode=0)
