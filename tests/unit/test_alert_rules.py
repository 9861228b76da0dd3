"""docs/alerts.yml: valid rules for every condition the operators watch, each with a runbook entry that exists."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _anchors(markdown: str) -> set[str]:
    return {re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
            for line in markdown.splitlines() if line.startswith("#")}


def test_every_alert_has_an_expression_and_an_existing_runbook_entry():
    rules = [r for g in yaml.safe_load((DOCS / "alerts.yml").read_text())["groups"] for r in g["rules"]]
    anchors = _anchors((DOCS / "operations.md").read_text())
    for rule in rules:
        assert rule["alert"] and rule["expr"].strip(), rule
        page, _, anchor = rule["annotations"]["runbook"].partition("#")
        assert page == "docs/operations.md" and anchor in anchors, (rule["alert"], anchor)
    metrics = " ".join(r["expr"] for r in rules)
    for family in ("zerotrip_outbox_oldest_pending_age_seconds", 'zerotrip_outbox_messages{state="dead"}',
                   "zerotrip_scan_last_success_timestamp_seconds", "zerotrip_outbox_last_sent_timestamp_seconds",
                   "zerotrip_job_lease_deadline_timestamp_seconds", "zerotrip_disk_free_ratio"):
        assert family in metrics, family
