"""`app.db.json_loads`, the JSON columns' reader: orjson where it reads exactly what the standard library reads,
the standard library for the rest — nothing a column holds reads differently."""

from __future__ import annotations

import json
import math

import pytest

from app.db import json_loads

SAME = [
    '{"source":"population_registry","fields":[{"name":"birth_date","value":"1945-01-01"}],"n":12345}',
    '[1, 2.5, "二", true, null, {"k": []}]',
    '"110101194501011234"',  # 18 digits inside a string: orjson
    "[9223372036854775807, -9223372036854775808]",  # the 64-bit bounds: orjson
    "[18446744073709551616]",  # beyond 64 bits: orjson would give a float
    "123456789012345678901234567890",
    "-9223372036854775809",
    '"\\ud800"',  # a lone surrogate escape: orjson refuses it
    '{"a": 1, "a": 2}',
    "Infinity",
]


@pytest.mark.parametrize("text", SAME)
@pytest.mark.parametrize("as_bytes", [False, True])
def test_reads_what_the_standard_library_reads(text, as_bytes):
    value = text.encode() if as_bytes else text
    got, expected = json_loads(value), json.loads(value)
    assert got == expected and repr(got) == repr(expected)


def test_nan_memoryview_and_what_is_not_json_text():
    assert math.isnan(json_loads("NaN"))
    assert json_loads(memoryview(b'{"x": [1]}')) == {"x": [1]}
    with pytest.raises(TypeError):
        json_loads(5)  # the standard library's error, as before
    with pytest.raises(ValueError):
        json_loads("{not json")
