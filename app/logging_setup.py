"""Logging: one line per record, with ID numbers, tokens and session keys scrubbed before output."""

from __future__ import annotations

import json
import logging
import re
import sys
import time

from app.idnumbers import redact

_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")
# `code` (a login code, js_code=…) but not WeChat's `errcode=40001`, which an operator needs to read
_SECRETS = re.compile(r"(session_key|access_token|refresh_token|secret|(?<!err)code)=([^&\s\"']+)", re.I)


def scrub(text: str) -> str:
    text = redact(text)
    text = _JWT.sub("<jwt>", text)
    return _SECRETS.sub(lambda m: f"{m.group(1)}=<redacted>", text)


class ScrubFilter(logging.Filter):
    """Applies `scrub` to the fully formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001
            return True
        clean = scrub(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


# Fields a record may carry (via `extra=`) that JSON lines show; nothing personal is ever put in them.
JSON_FIELDS = ("request_id", "method", "route", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    """ZEROTRIP_LOG_FORMAT=json: one JSON object per line (ts, level, logger, message, request fields)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for name in JSON_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if "request_id" not in line:
            request_id = _current_request_id()
            if request_id:
                line["request_id"] = request_id
        if record.exc_info:
            line["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


def _current_request_id() -> str | None:
    flask = sys.modules.get("flask")  # never imported here: the scheduler and the CLI do without Flask
    if flask is None or not flask.has_request_context():
        return None
    return flask.g.get("request_id")


_installed = False


def configure_logging(cfg) -> None:
    global _installed
    root = logging.getLogger()
    formatter = JsonFormatter() if getattr(cfg, "log_format", "text") == "json" else \
        logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    if not _installed:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter)
        handler._zerotrip = True
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        _installed = True
    for handler in root.handlers:
        if getattr(handler, "_zerotrip", False):
            handler.setFormatter(formatter)
    for handler in root.handlers:
        if not any(isinstance(f, ScrubFilter) for f in handler.filters):
            handler.addFilter(ScrubFilter())
    werkzeug_logger = logging.getLogger("werkzeug")
    werkzeug_logger.addFilter(ScrubFilter())
