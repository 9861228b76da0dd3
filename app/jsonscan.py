"""Bounds on a JSON body, checked over the raw bytes before any (recursive) parser sees them.

`check(data)` walks the tokens of a JSON text iteratively — no recursion, no objects built — and raises
`JsonTooComplex` when containers nest deeper than MAX_DEPTH or the text holds more than MAX_VALUES values
(every object, array, string value, number, true/false/null counts; object keys do not), a number is longer
than MAX_NUMBER characters (Python refuses to read an integer of over 4,300 digits) or a string holds a lone
UTF-16 surrogate escape such as `\\ud800` (no text can hold it: PostgreSQL refuses it, UTF-8 cannot encode it). It does not
validate the JSON: the parser still does that afterwards, on a text now known to be small and shallow.
The walk stops at the first bound crossed (or after 4 × MAX_VALUES tokens), so it costs at most a few
MAX_VALUES steps whatever the size.
"""

from __future__ import annotations

import re

MAX_DEPTH = 32
MAX_VALUES = 10_000
MAX_NUMBER = 100  # characters of one number or literal

# A string (escapes included), one structural character, or a run of anything else (a number or literal).
_TOKEN = re.compile(rb'"(?:[^"\\]++|\\.)*+"?|[\[\]{},:]|[^\s\[\]{},:"]++', re.DOTALL)


class JsonTooComplex(ValueError):
    pass


_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
# After strings are reduced to one quote: a key is a string right after `{` or `,` and followed by a colon.
_KEY = re.compile(rb'[{,]\s*"\s*:')
_LITERAL = re.compile(rb'[^\s\[\]{},:"]++')
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_OPEN = frozenset(b"[{")
# A \u escape of a UTF-16 surrogate, preceded by an even number of backslashes (an escaped backslash is text).
_SURROGATE_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE_PAIR = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def _reduce_strings(data: bytes) -> bytes:
    """Every string (escapes included; an unterminated one runs to the end) becomes one quote character."""
    if b"\\" not in data:  # no escapes: the quotes pair up, so split instead of a regex callback per string
        parts = data.split(b'"')
        reduced = b'"'.join(parts[0::2])
        return reduced + b'"' if len(parts) % 2 == 0 else reduced
    return _STRING.sub(b'"', data)


def check(data: bytes, *, max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES) -> None:
    """The same bounds as a token-by-token walk, counted with C-level passes (a 1,000-record exchange message is
    ~8,000 values: a Python loop over its ~40,000 tokens cost ~50 ms)."""
    if data.count(b",") > 4 * max_values + 2 * max_depth + 8:
        raise JsonTooComplex(f"more than {max_values} values")  # e.g. megabytes of commas, refused at once
    if b"\\u" in data:
        _refuse_lone_surrogates(data)
    reduced = _reduce_strings(data)
    brackets = reduced.translate(None, _NOT_BRACKETS)
    containers = brackets.count(b"[") + brackets.count(b"{")
    literals = _LITERAL.findall(reduced)
    values = containers + reduced.count(b'"') - len(_KEY.findall(reduced)) + len(literals)
    if values > max_values or len(brackets) > 4 * max_values:  # (closers alone count as tokens, as before)
        raise JsonTooComplex(f"more than {max_values} values")
    if literals and max(map(len, literals)) > MAX_NUMBER:
        raise JsonTooComplex(f"a number longer than {MAX_NUMBER} characters")
    depth = 0
    for c in brackets:  # at most 2 × max_values brackets here
        if c in _OPEN:
            depth += 1
            if depth > max_depth:
                raise JsonTooComplex(f"nested deeper than {max_depth} levels")
        else:
            depth -= 1


def _refuse_lone_surrogates(data: bytes) -> None:
    """JsonTooComplex when a string escapes a UTF-16 surrogate that is not half of a high-low pair."""
    for match in _SURROGATE_ESCAPE.finditer(data):
        start = match.end() - 6  # the escape itself, after the backslashes before it
        pair = _SURROGATE_PAIR.match(data, start)
        if pair is None:
            if start >= 6 and _SURROGATE_PAIR.match(data, start - 6):
                continue  # the low half of a pair found from its high half
            raise JsonTooComplex("a string holds a lone UTF-16 surrogate (\\ud800–\\udfff) escape")
