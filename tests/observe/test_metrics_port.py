"""The metrics port is never public: loopback by default; any other caller needs the bearer token; binding
it beyond loopback without a token is refused at start."""

from __future__ import annotations

import pytest

from app.config import ConfigError
from app.observe.server import check_binding, metrics_app


class _Registry:
    def collect(self):
        return []


def _call(app, remote: str, authorization: str | None = None) -> str:
    seen = {}
    environ = {"PATH_INFO": "/metrics", "REMOTE_ADDR": remote, "REQUEST_METHOD": "GET"}
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
    app(environ, lambda status, headers: seen.setdefault("status", status))
    return seen["status"]


def test_a_non_local_caller_needs_the_token():
    with_token = metrics_app(_Registry(), "s3cret-metrics-token")
    assert _call(with_token, "127.0.0.1").startswith("200")
    assert _call(with_token, "::1").startswith("200")
    assert _call(with_token, "10.0.0.5").startswith("401")
    assert _call(with_token, "10.0.0.5", "Bearer wrong").startswith("401")
    assert _call(with_token, "10.0.0.5", "s3cret-metrics-token").startswith("401")
    assert _call(with_token, "10.0.0.5", "Bearer s3cret-metrics-token").startswith("200")
    without_token = metrics_app(_Registry(), "")
    assert _call(without_token, "10.0.0.5", "Bearer ").startswith("401")
    assert _call(without_token, "127.0.0.1").startswith("200")


def test_binding_beyond_loopback_needs_a_token():
    check_binding("127.0.0.1", "")
    with pytest.raises(ConfigError):
        check_binding("0.0.0.0", "")
    check_binding("0.0.0.0", "s3cret-metrics-token")


def test_serve_refuses_a_public_metrics_port_without_a_token(cli):
    result = cli("serve", "--metrics-host", "0.0.0.0", "--workers", "1")
    assert result.exit_code != 0 and "ZEROTRIP_METRICS_TOKEN" in result.output


def test_serve_binds_the_metrics_port_to_loopback_by_default():
    from app.cli.serve_cmd import serve

    defaults = {p.name: p.default for p in serve.params}
    assert defaults["metrics_host"] == "127.0.0.1" and defaults["host"] == "127.0.0.1"
