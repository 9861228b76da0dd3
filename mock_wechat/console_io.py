"""Input helpers for the test console: errors are HTTP 400 JSON `{"error": "..."}`."""

import json

from flask import jsonify, request


class ConsoleError(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status

    def response(self):
        return jsonify({"error": self.message}), self.status


def body() -> dict:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ConsoleError("body is not JSON") from None
    if not isinstance(data, dict):
        raise ConsoleError("body must be a JSON object")
    return data


def text(source, key: str, required: bool = True) -> str | None:
    value = source.get(key)
    if value in (None, ""):
        if required:
            raise ConsoleError(f"{key} is required")
        return None
    if not isinstance(value, str):
        raise ConsoleError(f"{key} must be a string")
    return value
