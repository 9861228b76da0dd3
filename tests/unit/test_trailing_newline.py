"""A value with a trailing newline is not the value: `$` in a Python pattern also matches before a final "\\n",
so `zerotrip db archive --before $'2024-02\\n'` archived February itself (the comparison that follows is on the
text). Every anchored pattern of the backend ends in `\\Z` (probe of 7 Dec 2026)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.partitions import parse_month
from flows.exchange import clients

ROOT = Path(__file__).resolve().parents[2]


def test_a_month_with_a_trailing_newline_is_no_month():
    assert parse_month("2024-02") == (2024, 2)
    with pytest.raises(ValueError):
        parse_month("2024-02\n")


def test_an_exchange_client_id_with_a_trailing_newline_is_refused(session):
    with pytest.raises(clients.BadRegistration, match="client id"):
        clients.register(session, client_id="mzj\n", name="民政局", public_key="x", actions=["search"], purposes={},
                         pia_ref="PIA-1", agreement_ref="AGR-1", agreement_expires=None, contact="a@b.cn")


def test_no_compiled_pattern_of_the_backend_ends_in_a_dollar():
    """re.compile(r"^…$") in app/, flows/, notifications/: `\\Z` instead (the API's schema patterns are JSON
    Schema's, where `$` means the end, and are not compiled here)."""
    found = []
    for folder in ("app", "flows", "notifications"):
        for path in (ROOT / folder).rglob("*.py"):
            for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
                if re.search(r're\.compile\(r"\^.*\$"', line):
                    found.append(f"{path.relative_to(ROOT)}:{number}")
    assert found == []
