"""Logging: one line per record, with ID numbers, tokens and session keys scrubbed before output."""

from __future__ import annotations

import logging
import re

from app.idnumbers import redact

_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")
_SECRETS = re.compile(r"(session_key|access_token|refresh_token|secret|code)=([^&\s\"']+)", re.I)


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


_installed = False


def configure_logging(cfg) -> None:
    global _installed
    root = logging.getLogger()
    if not _installed:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        _installed = True
    for handler in root.handlers:
        if not any(isinstance(f, ScrubFilter) for f in handler.filters):
            handler.addFilter(ScrubFilter())
    werkzeug_logger = logging.getLogger("werkzeug")
    werkzeug_logger.addFilter(ScrubFilter())
