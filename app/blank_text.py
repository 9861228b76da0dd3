"""Text that shows nothing: what a person types cannot be only characters a reader does not see.

Zero-width and other format characters (Unicode category Cf: U+200B, U+FEFF, U+2060, the bidirectional controls
U+202A–U+202E and U+2066–U+2069), control characters (Cc), white space, and the letters and symbols that are
drawn blank: the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0) and the blank braille pattern (U+2800).
"""

from __future__ import annotations

import unicodedata

BLANK_DRAWN = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def is_format(ch: str) -> bool:
    """A format or control character (Unicode Cf, Cc): zero-width, direction controls, BOM, NUL, …"""
    return unicodedata.category(ch) in ("Cf", "Cc")


def is_unseen(ch: str) -> bool:
    return ch.isspace() or ch in BLANK_DRAWN or is_format(ch)


def visible_count(text: str) -> int:
    """How many characters of `text` a reader sees."""
    return sum(1 for ch in text if not is_unseen(ch))


def has_format_characters(text: str) -> bool:
    """Whether `text` holds a format or control character (a zero-width space, a direction override, …)."""
    return any(map(is_format, text))


def typed_count(text: str) -> int:
    """How many characters of `text` someone can type and see as typed: spaces count, format and control
    characters and the blank-drawn letters do not (a password's length)."""
    return sum(1 for ch in text if ch not in BLANK_DRAWN and not is_format(ch))
