"""Event push from "WeChat" to the developer's message-push URL (design/wechat-api.md §6.2), JSON form.

The payload has ToUserName (the mini-program's original id), FromUserName (openid), integer CreateTime,
MsgType "event", Event, and `List`: an object for one item (unless as_array), an array for several.
The URL gets `signature`, `timestamp`, `nonce` query params, signature = sha1 of the sorted
[token, timestamp, nonce] joined. Delivery runs in a background thread (or inline when
`push_async` is false); failures are only logged in GET /__mock__/events, never raised.
"""

import hashlib
import json
import threading
import urllib.parse
import urllib.request

from . import ids
from .store import Store

POPUP, CHANGE, SENT = "subscribe_msg_popup_event", "subscribe_msg_change_event", "subscribe_msg_sent_event"
EVENTS = (POPUP, CHANGE, SENT)


def signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def build_item(event: str, item: dict) -> dict:
    out = {"TemplateId": item["template_id"]}
    if event == SENT:
        code = str(item.get("error_code", 0))
        out["MsgID"] = str(item.get("msgid", ""))
        out["ErrorCode"] = code
        out["ErrorStatus"] = item.get("error_status") or ("success" if code == "0" else "failed")
        return out
    out["SubscribeStatusString"] = item.get("status") or ("accept" if event == POPUP else "reject")
    if event == POPUP:
        out["PopupScene"] = "0"
    return out


def build_payload(store: Store, openid: str, event: str, items: list[dict], as_array: bool = False) -> dict:
    built = [build_item(event, item) for item in items]
    return {"ToUserName": store.settings["original_id"], "FromUserName": openid,
            "CreateTime": int(store.now()), "MsgType": "event", "Event": event,
            "List": built if as_array or len(built) != 1 else built[0]}


def push(store: Store, payload: dict) -> dict | None:
    """Queue one signed POST of `payload` to the webhook; the log entry, or None without a webhook."""
    with store.lock:
        settings = store.settings
        if not settings["webhook_url"]:
            return None
        timestamp, nonce = str(int(store.now())), ids.nonce()
        query = {"signature": signature(settings["webhook_token"], timestamp, nonce),
                 "timestamp": timestamp, "nonce": nonce}
        entry = {"id": len(store.state.pushes) + 1, "url": settings["webhook_url"], "query": query,
                 "body": payload, "status": "pending", "time": store.iso_now()}
        store.state.pushes.append(entry)
        run_async, timeout = settings["push_async"], settings["push_timeout_s"]
    if run_async:
        threading.Thread(target=_deliver, args=(store, entry, timeout), daemon=True).start()
    else:
        _deliver(store, entry, timeout)
    with store.lock:
        return dict(entry)


def _deliver(store: Store, entry: dict, timeout: float) -> None:
    url = entry["url"] + ("&" if "?" in entry["url"] else "?") + urllib.parse.urlencode(entry["query"])
    data = json.dumps(entry["body"], ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            status, text = f"delivered {response.status}", response.read(500).decode("utf-8", "replace")
    except Exception as exc:  # noqa: BLE001 - a failing webhook must never break the mock
        status, text = f"failed: {exc}", None
    with store.lock:
        entry.update(status=status, response=text)
