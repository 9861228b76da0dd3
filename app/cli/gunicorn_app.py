"""`zerotrip serve` under gunicorn, through its public API (a `gunicorn.app.base.BaseApplication`).

gthread workers, each building the Flask app after the fork (no database connection crosses a fork); the
master runs no request and no scheduler — only the metrics port (a thread) that aggregates the workers'
prometheus_client files. A dead worker's live gauges are dropped (`mark_process_dead`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger


class ZeroTripServer(BaseApplication):
    def __init__(self, cfg, options: dict, metrics: tuple[str, int] | None, owned_metrics_dir: str | None):
        self.zerotrip_cfg, self.options = cfg, options
        self.metrics, self.owned_metrics_dir = metrics, owned_metrics_dir
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        self.cfg.set("logger_class", JsonLogger if self.zerotrip_cfg.log_format == "json" else ScrubbedLogger)
        self.cfg.set("post_worker_init", _post_worker_init)
        if "control_socket_disable" in self.cfg.settings:  # gunicorn ≥ 24: no shared ~/.gunicorn socket
            self.cfg.set("control_socket_disable", True)
        self.cfg.set("when_ready", self._when_ready)
        self.cfg.set("child_exit", _child_exit)
        self.cfg.set("on_exit", self._on_exit)

    def load(self):
        from app import create_app, freeze_startup_objects
        from app.db import forget_engines_after_fork

        # The master checked the schema through the pooled engine before forking: drop the inherited pool
        # without closing its sockets, so no worker ever talks on the master's connection.
        forget_engines_after_fork()
        application = create_app(self.zerotrip_cfg)
        freeze_startup_objects()
        return application

    def _when_ready(self, arbiter) -> None:
        if self.metrics is None:
            return
        from app.observe import server

        host, port = self.metrics
        try:
            srv = server.start(self.zerotrip_cfg, host, port)
        except OSError as exc:  # the API still serves; the operator sees why there are no metrics
            arbiter.log.error("metrics port %s:%s not opened: %s", host, port, exc)
            return
        arbiter.log.info("metrics: http://%s:%s/metrics", host, srv.server_port)

    def _on_exit(self, _arbiter) -> None:
        if self.owned_metrics_dir:
            shutil.rmtree(self.owned_metrics_dir, ignore_errors=True)


class ScrubbedLogger(Logger):
    """gunicorn's own lines through the scrubbing every other line gets; a refused request's line keeps the
    address and the kind of error, never the request text it quotes (a raw request line or header can hold
    an ID number, a phone, a name)."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        from app.logging_setup import ScrubFilter

        for handler in self.error_log.handlers:
            handler.addFilter(_BadRequestLine())
            handler.addFilter(ScrubFilter())


class _BadRequestLine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Invalid request from ip="):
            head, _, error = message.partition(": ")
            record.msg, record.args = f"{head}: {error.split(':')[0].split(chr(39))[0].strip()[:80]}", ()
        return True


class JsonLogger(ScrubbedLogger):
    """gunicorn's own lines (start, worker boots, signals) as JSON too when ZEROTRIP_LOG_FORMAT=json."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        from app.logging_setup import JsonFormatter

        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())


def _post_worker_init(_worker) -> None:
    """Ctrl-C reaches every process of the terminal's group: the master then stops the workers itself. A
    worker that also handled SIGINT ran its quit handler inside its quit handler (both waiting on the thread
    pool's shutdown) and hung until the master killed it 10 s later. And a request gunicorn refuses before the
    app sees it (a request line over 4,094 bytes, bytes that are no HTTP) is answered in the API's JSON error
    shape, not an HTML page quoting the request: gunicorn has no setting for that page, so its one writer is
    replaced in this worker process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from gunicorn import util

    util.write_error = _write_json_error


def _write_json_error(sock, status_int, reason, _mesg) -> None:
    from gunicorn import util

    from app.api.request_context import new_request_id

    body = json.dumps({"code": status_int, "status": reason, "request_id": new_request_id(),
                       "message": f"The request could not be read as HTTP ({reason})."}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
    util.write_nonblock(sock, head + body)


def _child_exit(_arbiter, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
