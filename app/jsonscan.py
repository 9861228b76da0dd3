"""Bounds on a JSON body, checked over the raw bytes before any (recursive) parser sees them.

`check(data)` walks the tokens of a JSON text iteratively — no recursion, no objects built — and raises
`JsonTooComplex` when containers nest deeper than MAX_DEPTH or the text holds more than MAX_VALUES values
(every object, array, string value, number, true/false/null counts; object keys do not). It does not
validate the JSON: the parser still does that afterwards, on a text now known to be small and shallow.
The walk stops at the first bound crossed (or after 4 × MAX_VALUES tokens), so it costs at most a few
MAX_VALUES steps whatever the size.
"""

from __future__ import annotations

import re

MAX_DEPTH = 32
MAX_VALUES = 10_000

# A string (escapes included), one structural character, or a run of anything else (a number or literal).
_TOKEN = re.compile(rb'"(?:[^"\\]++|\\.)*+"?|[\[\]{},:]|[^\s\[\]{},:"]++', re.DOTALL)


class JsonTooComplex(ValueError):
    pass


def check(data: bytes, *, max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES) -> None:
    depth = 0
    values = 0
    in_object: list[bool] = []  # per open container: object (True) or array; bounded by max_depth
    expect_key = False
    # A text of 10,000 values has at most ~4 tokens per value (value, comma, key, colon; brackets are values):
    # more tokens (e.g. 2 MiB of commas) is refused without walking them all.
    max_tokens = 4 * max_values + 2 * max_depth + 8
    for tokens, match in enumerate(_TOKEN.finditer(data)):
        if tokens > max_tokens:
            raise JsonTooComplex(f"more than {max_values} values")
        token = match.group()
        first = token[:1]
        if first in (b"]", b"}"):
            if in_object:
                in_object.pop()
            depth -= 1
            expect_key = False
            continue
        if first == b",":
            expect_key = bool(in_object and in_object[-1])
            continue
        if first == b":":
            expect_key = False
            continue
        if expect_key and first == b'"':
            expect_key = False
            continue
        values += 1
        if values > max_values:
            raise JsonTooComplex(f"more than {max_values} values")
        if first in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                raise JsonTooComplex(f"nested deeper than {max_depth} levels")
            in_object.append(first == b"{")
            expect_key = first == b"{"
