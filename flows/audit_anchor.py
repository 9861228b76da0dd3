"""The daily audit anchor: append the chain head (seq, hash, time) to AUDIT_ANCHOR_PATH, outside the
database, so that even a full, consistent rewrite of the audit table is detected by `zerotrip audit verify`.

Scheduler hook: `scheduler.add_job(run_daily_anchor, CronTrigger(hour=0, minute=5, timezone=SHANGHAI),
args=[cfg], id="audit-anchor")`.
"""

from __future__ import annotations

import logging

from app.audit import write_anchor
from app.db import session_scope
from flows import joblock

log = logging.getLogger("zerotrip.audit")


def run_daily_anchor(cfg) -> dict | None:
    if not joblock.acquire(cfg, "audit:anchor", ttl_seconds=600):
        log.info("audit anchor skipped: lock held by another scheduler")
        return None
    try:
        with session_scope(cfg) as session:
            anchor = write_anchor(session, cfg.audit_anchor_path)
        log.info("audit anchor written: seq=%s head=%s", anchor["seq"], anchor["hash"][:16])
        return anchor
    finally:
        joblock.release(cfg, "audit:anchor")
