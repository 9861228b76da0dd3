"""WeChat subscribe messages through notifications.wechat_client (token refresh is the client's job)."""

from __future__ import annotations

from notifications.channels import Outcome
from notifications.errors import OK, RETRY, TRANSPORT, classify
from notifications.wechat_client import TokenUnavailable, WeChatClient, WeChatError, WeChatTransportError

CHANNEL = "wechat"
TOKEN_RETRY_S = 300  # the token endpoint refused: an operator has to act (IP allow list, secret)


def send(client: WeChatClient, openid: str, template_id: str, data: dict, page: str | None) -> Outcome:
    try:
        msgid = client.send_subscribe(openid, template_id, data, page)
    except WeChatError as exc:
        verdict = classify(exc.errcode)
        return Outcome(verdict.kind, CHANNEL, errcode=exc.errcode,
                       error=f"wechat {exc.errcode}: {verdict.meaning}", min_delay=verdict.min_delay)
    except TokenUnavailable as exc:  # nothing was sent: retry later, never a permanent failure of this message
        return Outcome(RETRY, CHANNEL, errcode=exc.errcode, error=f"wechat {exc}", min_delay=TOKEN_RETRY_S)
    except WeChatTransportError as exc:
        verdict = classify(TRANSPORT)
        return Outcome(verdict.kind, CHANNEL, errcode=TRANSPORT, error=f"wechat transport: {exc}")
    return Outcome(OK, CHANNEL, msgid=msgid or None, errcode=0)
