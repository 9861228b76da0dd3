"""ASCII digits only (issue 9 item 4): the one mapping, and how other digits are found and refused.

Python's `str.isdigit()`, `int()`, `Decimal()` and a regex `\\d` (without `re.ASCII`) accept every script's
digits: `"١٢٣"` (Arabic-Indic), `"²"` and `"①"` pass some of them and reach the database or a bank file. Numbers
here are the ASCII digits 0-9 only, after exactly one documented mapping:

- U+FF10–U+FF19 (full-width ０–９, what a Chinese IME types) → 0–9;
- in ID numbers also `Ｘ` (U+FF38), `ｘ` (U+FF58) and `x` → `X`.

Nothing else is mapped — in particular no NFKC, which would turn `²` and `①` into digits. Any other digit
(Unicode categories Nd, No, Nl outside ASCII) is refused: 422 at the API, a rejected row with its reason in
an import. Patterns that *detect* ID numbers for masking (app.idnumbers.ID_PATTERN) keep matching every
script's digits on purpose.
"""

from __future__ import annotations

import re
import unicodedata

FULLWIDTH_DIGITS = {0xFF10 + i: 0x30 + i for i in range(10)}
_ID_MAP = {**FULLWIDTH_DIGITS, 0xFF38: "X", 0xFF58: "X", ord("x"): "X"}
ASCII_DIGITS = re.compile(r"[0-9]+")
# Money in yuan: up to 7 integer digits and 2 decimals; no sign, exponent, NaN, separator or space.
AMOUNT = re.compile(r"^[0-9]{1,7}(\.[0-9]{1,2})?\Z")
_NUMERIC = ("Nd", "No", "Nl")


def to_ascii(text: str) -> str:
    """Full-width digits → ASCII; everything else unchanged."""
    return text.translate(FULLWIDTH_DIGITS)


def id_to_ascii(text: str) -> str:
    """An ID number as typed: surrounding spaces removed, full-width digits and Ｘ/ｘ/x → ASCII, upper case."""
    if text.isascii():  # the usual case, without translate's per-character lookups
        return text.strip().upper()
    return text.strip().translate(_ID_MAP).upper()


_FULLWIDTH = frozenset(chr(code) for code in FULLWIDTH_DIGITS)


def _foreign_in(text: str) -> set[str]:
    """The distinct non-ASCII Nd/No/Nl characters of `text`: each distinct character's category is asked once
    (a set of all such characters took 0.3 s to build in every process that asked, an import worker's or an
    API worker's first request)."""
    return {ch for ch in set(text) if ch >= "\x80" and unicodedata.category(ch) in _NUMERIC}


def foreign_digit(text: str) -> str | None:
    """The first digit-like character that is not ASCII 0-9 (after the mapping, callers map first)."""
    if text.isascii():
        return None
    found = _foreign_in(text)
    return next(ch for ch in text if ch in found) if found else None


def foreign_digit_unmapped(text: str) -> bool:
    """Whether `text` holds a digit the one mapping does not turn into ASCII (`foreign_digit` of the mapped text,
    without building the mapped text: an import asks it of every row)."""
    return not text.isascii() and not _foreign_in(text) <= _FULLWIDTH


_ASCII_BYTES = bytes(range(0x80))


def foreign_digit_unmapped_in_utf8(data: bytes) -> bool:
    """`foreign_digit_unmapped` of UTF-8 text, asked of its non-ASCII characters alone: the bytes under 0x80
    are deleted first (in C; every byte of a multi-byte character is ≥ 0x80, so the rest still decodes). A block
    of an import's rows is asked at once, a fifth of the time of asking it row by row."""
    return foreign_digit_unmapped(data.translate(None, _ASCII_BYTES).decode("utf-8"))


def is_ascii_digits(text: str) -> bool:
    """One or more of 0-9 and nothing else. Among ASCII characters only 0-9 are digits, so `isdigit()` after
    `isascii()` says exactly that (a third of the regex's time; an import asks it several times a row)."""
    return text.isascii() and text.isdigit()


def describe(ch: str) -> str:
    """`U+0663` — for messages and logs (the character itself may not display)."""
    return f"U+{ord(ch):04X}"
