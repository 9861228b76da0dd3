"""Body size and JSON shape limits on every route that takes a body (issue 9 item 6).

A body over 2 MiB → 413; JSON nested deeper than 32 levels or with more than 10,000 values → 400
`invalid_json`, decided before any parser runs (deep nesting used to end in RecursionError → 500).
"""

from __future__ import annotations

import logging

import pytest

BODY_METHODS = ("POST", "PUT", "PATCH")
DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECTS = b'{"a":' * 5_000 + b"1" + b"}" * 5_000
MANY = b"[" + b"0," * 10_000 + b"0]"  # 10,001 numbers in one array


def _json_routes(app) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & set(BODY_METHODS)):
            path = rule.rule
            for arg in rule.arguments:
                path = path.replace(f"<{arg}>", "x1").replace(f"<string:{arg}>", "x1")
                path = path.replace(f"<int:{arg}>", "1").replace(f"<path:{arg}>", "x1")
            if not path.endswith("/visit-files"):  # the image itself is the body (tests/staff/test_home_visits.py)
                out.append((method, path))
    return sorted(out)


def _refused(client, method, path, body, **headers):
    return client.open(path, method=method, data=body, headers={"Content-Type": "application/json", **headers})


def test_every_json_route_refuses_deep_and_huge_json_before_parsing(app, client, caplog):
    routes = _json_routes(app)
    assert ("POST", "/api/v1/wechat/events") in routes and len(routes) > 30
    caplog.set_level(logging.WARNING, logger="zerotrip.security")
    for method, path in routes:
        for body in (DEEP, DEEP_OBJECTS, MANY):
            r = _refused(client, method, path, body)
            assert r.status_code == 400, (method, path, r.status_code, r.data[:200])
            got = r.get_json()
            assert got["error_code"] == "invalid_json" and got["code"] == 400 and got["request_id"], got
    lines = [rec.getMessage() for rec in caplog.records if "rule=json_limits" in rec.getMessage()]
    assert len(lines) == 3 * len(routes)


def test_the_webhook_parses_any_media_type_as_json_and_is_bounded_too(client):
    r = client.post("/api/v1/wechat/events?signature=x&timestamp=1&nonce=n", data=DEEP,
                    headers={"Content-Type": "text/plain"})
    assert r.status_code == 400 and r.get_json()["error_code"] == "invalid_json"


def test_limits_are_exact(client):
    """32 levels and 10,000 values pass the scanner (the schema answers); one more is refused."""
    ok_depth = b"[" * 32 + b"]" * 32
    ok_values = b"[" + b"0," * 9_998 + b"0]"  # the array and 9,999 numbers
    keys = b"{" + b",".join(b'"k%d":1' % i for i in range(9_999)) + b"}"  # keys are not values
    for body in (ok_depth, ok_values, keys):
        r = _refused(client, "POST", "/api/v1/auth/refresh", body)
        assert r.status_code in (400, 422) and r.get_json().get("error_code") != "invalid_json", r.data[:200]
    for body in (b"[" * 33 + b"]" * 33, b"[" + b"0," * 9_999 + b"0]"):
        r = _refused(client, "POST", "/api/v1/auth/refresh", body)
        assert r.get_json().get("error_code") == "invalid_json"


def test_brackets_inside_strings_do_not_count(client):
    body = b'{"refresh_token": "' + b"[" * 1000 + b'\\"' + b"{" * 1000 + b'"}'
    r = _refused(client, "POST", "/api/v1/auth/refresh", body)
    assert r.get_json().get("error_code") != "invalid_json"


@pytest.mark.parametrize("size", [2 * 1024 * 1024 + 1, 5 * 1024 * 1024])
def test_a_body_over_2_mib_is_413_in_json(client, caplog, size):
    caplog.set_level(logging.WARNING, logger="zerotrip.security")
    body = b'{"refresh_token": "' + b"a" * size + b'"}'
    for path in ("/api/v1/auth/refresh", "/api/v1/wechat/events"):
        r = _refused(client, "POST", path, body)
        assert r.status_code == 413 and r.is_json, r.data[:200]
        assert r.get_json()["code"] == 413
    assert sum("rule=body_size" in rec.getMessage() for rec in caplog.records) == 2


def test_separator_floods_are_refused_without_walking_them(client):
    for body in (b"[" + b"," * (2 * 1024 * 1024 - 10) + b"]", b"{" + b'"k":' * 400_000 + b"1}"):
        r = _refused(client, "POST", "/api/v1/auth/refresh", body)
        assert r.status_code == 400 and r.get_json()["error_code"] == "invalid_json"


LONG_NUMBER = b'{"code": ' + b"1" * 4_400 + b"}"  # Python will not read an integer of over 4,300 digits
LONE_SURROGATES = (b'{"comment": "x\\ud800y"}', b'{"comment": "\\udc00"}', b'{"a": ["\\uD83D"]}',
                   b'{"a": "\\\\\\ud800"}')


def test_every_json_route_refuses_a_huge_number_and_a_lone_surrogate(app, client):
    """Both used to pass to the parser: a 4,400-digit integer ended in ValueError, a lone surrogate was stored and
    then refused by PostgreSQL on every later read of the row (500s, the resident's own list among them)."""
    for method, path in _json_routes(app):
        for body in (LONG_NUMBER, *LONE_SURROGATES):
            r = _refused(client, method, path, body)
            assert r.status_code == 400, (method, path, body, r.status_code, r.data[:200])
            assert r.get_json()["error_code"] == "invalid_json", r.get_json()


@pytest.mark.parametrize("body", [b'{"code": "\\ud83d\\ude00"}', b'{"code": "\\\\ud800"}', b'{"code": "a\\\\\\\\ud800"}',
                                  b'{"code": ' + b"1" * 100 + b"}"])
def test_a_surrogate_pair_an_escaped_backslash_and_a_long_enough_number_pass_the_scanner(client, body):
    r = client.post("/api/v1/auth/wechat-login", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code != 500 and r.get_json().get("error_code") != "invalid_json", r.get_json()


def _routes_with_ids(app) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.endpoint == "static":
            continue
        path = rule.rule
        for arg in rule.arguments:
            for conv in ("", "string:", "path:"):
                path = path.replace(f"<{conv}{arg}>", "a%00b")
        if "<" not in path:
            out.extend((m, path) for m in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
    return sorted(out)


def test_a_nul_in_an_id_is_404_and_in_a_query_parameter_422(app, client):
    """PostgreSQL cannot hold NUL in text: an id with `%00` used to reach the database and end in a 500 (about 40
    routes, one of them without sign-in)."""
    routes = _routes_with_ids(app)
    assert len(routes) > 40
    for method, path in routes:
        r = client.open(path, method=method, json={} if method in BODY_METHODS else None)
        assert r.status_code == 404 and r.get_json()["code"] == 404, (method, path, r.status_code, r.data[:200])
    r = client.get("/api/v1/staff/approvals?kind=%00")
    assert r.status_code == 422 and r.get_json()["errors"] == {"query": {"kind": ["NUL characters are not allowed."]}}


def test_a_key_named_twice_in_one_object_is_invalid_json(client):
    """Found by a probe: `{"level": 3, "level": 1}` was taken with the last value (a gateway or an audit copy may
    read the first). Nested objects are checked too; the same key in two objects is fine."""
    for body in (b'{"code":"a","code":"b"}', b'{"code":"a","x":{"k":1,"k":2}}'):
        r = client.post("/api/v1/auth/wechat-login", data=body, headers={"Content-Type": "application/json"})
        got = r.get_json()
        assert r.status_code == 400 and got["error_code"] == "invalid_json" and "twice" in got["message"], got
    fine = client.post("/api/v1/auth/wechat-login", data=b'{"code":"a"}', headers={"Content-Type": "application/json"})
    assert fine.status_code != 400 or fine.get_json().get("error_code") != "invalid_json"
