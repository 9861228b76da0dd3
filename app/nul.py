"""NUL characters in decoded JSON: no stored text may hold one (PostgreSQL refuses them), so a message holding
one anywhere is refused whole, before any of it is stored, on either database."""

from __future__ import annotations


def holds_nul(value) -> bool:
    """Whether a string anywhere in `value` (JSON as decoded: dicts, lists, strings, numbers), key or value,
    holds U+0000. Iterative: a deeply nested body is refused by its own check, not by recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
