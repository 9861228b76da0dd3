"""WeChat wire conventions: error JSON, body parsing, "empty string means absent"."""

import json

from flask import Response, request

from . import ids

ERRMSG = {
    -1: "system error",
    0: "ok",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40014: "invalid access_token",
    40029: "invalid code",
    40037: "invalid template_id",
    40097: "invalid args",
    40125: "invalid appsecret",
    40129: "invalid scene",
    40163: "code been used",
    40169: "invalid length for scene, or the data is not json string",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41008: "missing code",
    41030: "invalid page",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    43101: "user refuse to accept the msg",
    44002: "empty post data",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit mustslower retry next minute",
    47001: "data format error",
}

CONTENT_TYPE = "application/json; encoding=utf-8"


class WeChatError(Exception):
    def __init__(self, errcode: int, errmsg: str | None = None):
        super().__init__(errcode)
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSG.get(errcode, "unknown error")


def wechat_json(payload: dict) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Response(body.encode("utf-8"), status=200, content_type=CONTENT_TYPE)


def wechat_error(errcode: int, errmsg: str | None = None) -> Response:
    text = errmsg or ERRMSG.get(errcode, "unknown error")
    return wechat_json({"errcode": errcode, "errmsg": f"{text} rid: {ids.rid()}"})


def read_json_object() -> dict | None:
    """The request body as a JSON object whatever the Content-Type; None if empty or not an object."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def json_body() -> dict:
    """Parse a WeChat POST body: empty → 44002, not a JSON object → 47001."""
    if not request.get_data(cache=True).strip():
        raise WeChatError(44002)
    data = read_json_object()
    if data is None:
        raise WeChatError(47001)
    return data


def field(source, key: str):
    """A parameter's value, with "" and null treated as absent (None)."""
    value = source.get(key)
    return None if value in ("", None) else value
