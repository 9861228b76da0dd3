"""The API's JSON bodies (app/api/json_provider.py, orjson): what Flask's own provider promised still holds —
sorted keys, compact with a trailing newline, indented in debug mode, Flask's conversions for what JSON has no
type for — and text is UTF-8 rather than `\\uXXXX` escapes."""

from __future__ import annotations

import dataclasses
import decimal
import json
import uuid
from datetime import date, datetime

import pytest
from flask import Flask

from app.api.json_provider import OrjsonProvider


def test_a_body_is_compact_sorted_utf8_json_with_a_newline(client):
    r = client.get("/api/v1/appeals/reasons")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.data.endswith(b"}]\n") and b"\n" not in r.data[:-1] and b", " not in r.data
    text = r.data.decode("utf-8")
    assert "\\u" not in text and any("\u4e00" <= ch <= "\u9fff" for ch in text)  # Chinese as UTF-8, not escaped
    first = json.loads(text)[0]
    assert list(first) == sorted(first)
    assert r.data == (json.dumps(json.loads(text), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                      + "\n").encode()


def test_an_error_is_json_too(client):
    r = client.get("/api/v1/applications")
    assert r.status_code == 401 and r.mimetype == "application/json" and r.data.endswith(b"\n")
    assert isinstance(json.loads(r.data)["message"], str)


@dataclasses.dataclass
class Point:
    x: int
    label: str


@pytest.fixture
def provider():
    flask_app = Flask(__name__)
    flask_app.json = OrjsonProvider(flask_app)
    return flask_app


def test_flasks_conversions_are_kept(provider):
    standard = Flask(__name__).json  # Flask's own DefaultJSONProvider
    value = {"b": decimal.Decimal("1.50"), "a": date(2026, 12, 6), "c": datetime(2026, 12, 6, 8, 30, 1),
             "d": uuid.UUID(int=7), "e": Point(1, "二"), "f": [1, 2.5, None, True]}
    assert json.loads(provider.json.dumps(value)) == json.loads(standard.dumps(value))
    assert provider.json.dumps({"b": 1, "a": 2}) == '{"a":2,"b":1}'
    assert provider.json.dumps({3: "x"}) == standard.dumps({3: "x"}, separators=(",", ":")) == '{"3":"x"}'


def test_what_orjson_refuses_is_written_by_the_standard_encoder(provider):
    big = 2 ** 70
    assert json.loads(provider.json.dumps({"n": big})) == {"n": big}
    with provider.app_context():
        assert json.loads(provider.json.response({"n": big}).get_data()) == {"n": big}


def test_what_nobody_can_write_is_a_type_error(provider):
    with pytest.raises(TypeError):
        provider.json.dumps({"x": object()})


def test_debug_mode_indents(provider):
    provider.debug = True
    with provider.app_context():
        body = provider.json.response({"b": 1, "a": "二"}).get_data(as_text=True)
    assert body.startswith("{\n  ") and body.endswith("}\n") and json.loads(body) == {"a": "二", "b": 1}


def test_arguments_of_the_caller_use_the_standard_encoder(provider):
    assert provider.json.dumps({"a": 1}, indent=1) == '{\n "a": 1\n}'
