"""POST /cgi-bin/message/subscribe/send and GET /wxaapi/newtmpl/gettemplate.

Checks, in order: access_token; JSON body; touser known (an openid is known once a login code was
minted for it) else 40003; template_id known else 40037; each keyword of the template present and
valid (value_rules) else 47003 naming the first bad key in template order; a grant (subscriptions)
else 43101. Extra data keys, `page`, `miniprogram_state`, `lang` and item keys other than `value`
are accepted and ignored. Success records the body with its msgid and time.
"""

from flask import Blueprint

from . import events, ids
from .store import Store, get_store
from .subscriptions import consume
from .templates import Template, get_templates
from .tokens import require_token
from .value_rules import check_value
from .wire import WeChatError, field, json_body, wechat_json

bp = Blueprint("messages", __name__)


def validate_data(template: Template, data) -> None:
    if data is not None and not isinstance(data, dict):
        raise WeChatError(47001)
    for keyword in template.keywords:
        key = keyword["key"]
        problem = check_value(key, (data or {}).get(key), keyword.get("enum_values"))
        if problem:
            raise WeChatError(47003, f"argument invalid! data.{key}.value {problem}")


def _lookup(store: Store, body: dict) -> Template:
    touser = field(body, "touser")
    if not isinstance(touser, str) or touser not in store.state.users:
        raise WeChatError(40003)
    template_id = field(body, "template_id")
    template = get_templates().get(template_id) if isinstance(template_id, str) else None
    if template is None:
        raise WeChatError(40037)
    return template


def record(store: Store, body: dict, msgid: int) -> None:
    entry = dict(body, msgid=str(msgid), time=store.iso_now())
    store.state.messages.append(entry)


@bp.post("/cgi-bin/message/subscribe/send")
def send():
    require_token()
    body = json_body()
    store = get_store()
    with store.lock:
        template = _lookup(store, body)
        validate_data(template, body.get("data"))
        if not consume(store.state, body["touser"], template):
            raise WeChatError(43101)
        msgid = ids.msgid()
        record(store, body, msgid)
        send_event = store.settings["send_sent_events"]
    if send_event:
        item = {"template_id": template.id, "msgid": msgid, "error_code": 0}
        events.push(store, events.build_payload(store, body["touser"], events.SENT, [item]))
    return wechat_json({"errcode": 0, "errmsg": "ok", "msgid": msgid})


@bp.get("/wxaapi/newtmpl/gettemplate")
def get_template_list():
    require_token()
    data = [t.as_wechat() for t in get_templates().values()]
    return wechat_json({"errcode": 0, "errmsg": "ok", "data": data})
