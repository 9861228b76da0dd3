"""`zerotrip serve` under gunicorn, through its public API (a `gunicorn.app.base.BaseApplication`).

gthread workers, each building the Flask app after the fork (no database connection crosses a fork); the
master runs no request and no scheduler — only the metrics port (a thread) that aggregates the workers'
prometheus_client files. A dead worker's live gauges are dropped (`mark_process_dead`).
"""

from __future__ import annotations

import os
import shutil

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
        if self.zerotrip_cfg.log_format == "json":
            self.cfg.set("logger_class", JsonLogger)
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


class JsonLogger(Logger):
    """gunicorn's own lines (start, worker boots, signals) as JSON too when ZEROTRIP_LOG_FORMAT=json."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        from app.logging_setup import JsonFormatter

        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())


def _child_exit(_arbiter, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
