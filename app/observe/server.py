"""The metrics port: `GET /metrics` in Prometheus text format, never public.

Bound to 127.0.0.1 by default. A caller that is not on the loopback interface must send
`Authorization: Bearer $ZEROTRIP_METRICS_TOKEN`; without a token configured, binding to anything but
loopback is refused at start. Under gunicorn it runs as a thread of the master process and aggregates the
workers' files in PROMETHEUS_MULTIPROC_DIR (and those of dispatchers and a scheduler sharing that dir).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from app.config import ConfigError

DEFAULT_PORT = 9464


def is_loopback(address: str | None) -> bool:
    try:
        parsed = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return False
    mapped = getattr(parsed, "ipv4_mapped", None)
    return (mapped or parsed).is_loopback


def caller_allowed(remote_addr: str | None, authorization: str | None, token: str) -> bool:
    """A loopback caller, or one presenting the configured bearer token (compared in constant time)."""
    if is_loopback(remote_addr):
        return True
    if not token:
        return False
    scheme, _, presented = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())


def check_binding(host: str, token: str) -> None:
    if not is_loopback(host) and host != "localhost" and not token:
        raise ConfigError(f"the metrics port would be reachable on {host} without ZEROTRIP_METRICS_TOKEN; "
                          "set the token or bind it to 127.0.0.1")


def build_registry(cfg):
    """Every family of this host: the multiprocess files (or this process's own), plus the database gauges."""
    from prometheus_client import REGISTRY, CollectorRegistry

    from app.observe.database import DatabaseCollector

    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(DatabaseCollector(cfg))
    return registry


class _Forward:
    def __init__(self, registry):
        self.registry = registry

    def collect(self):
        return self.registry.collect()


def metrics_app(registry, token: str):
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    def app(environ, start_response):
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found; try /metrics\n"]
        if not caller_allowed(environ.get("REMOTE_ADDR"), environ.get("HTTP_AUTHORIZATION"), token):
            start_response("401 Unauthorized", [("Content-Type", "text/plain"),
                                                ("WWW-Authenticate", 'Bearer realm="metrics"')])
            return [b"metrics need a loopback caller or the bearer token\n"]
        body = generate_latest(registry)
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
        return [body]

    return app


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *_args) -> None:
        pass


def start(cfg, host: str, port: int) -> WSGIServer:
    """Serve /metrics on host:port from a daemon thread; returns the server (its port if 0 was asked)."""
    check_binding(host, cfg.metrics_token)
    server = make_server(host, port, metrics_app(build_registry(cfg), cfg.metrics_token), _Server, _Quiet)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
