"""Per-request metrics (count and latency by route) and, with ZEROTRIP_LOG_FORMAT=json, one log line per
request: request id, method, route (the URL rule), status, duration. Never the raw path, the query string,
the address or the account — nothing personal."""

from __future__ import annotations

import functools
import logging
import re
import time

from flask import Flask, g, request

log = logging.getLogger("zerotrip.request")
UNMATCHED = "<unmatched>"
_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@functools.lru_cache(maxsize=512)
def route_label(rule: str) -> str:
    """`/api/v1/applications/<string:application_id>` → `/api/v1/applications/{application_id}` (as in the
    OpenAPI document)."""
    return _PARAM.sub(r"{\1}", rule)


def init_app(flask_app: Flask, cfg) -> None:
    from app.observe import metrics

    metrics.listen_to_refusals()
    json_lines = cfg.log_format == "json"

    @flask_app.before_request
    def _start_clock():
        g.started = time.perf_counter()

    @flask_app.after_request
    def _observe(response):
        started = g.get("started")
        if started is None:
            return response
        seconds = time.perf_counter() - started
        route = route_label(request.url_rule.rule) if request.url_rule is not None else UNMATCHED
        metrics.observe_request(route, request.method, response.status_code, seconds)
        if json_lines:
            log.info("request", extra={"request_id": g.get("request_id"), "method": request.method, "route": route,
                                       "status": response.status_code, "duration_ms": round(seconds * 1000, 2)})
        return response
