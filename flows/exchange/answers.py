"""Building blocks of the exchange's answers (generic): the usual fields, and an answer about benefits a
resident receives herself, for the programs that declare one (flows/programs/<code>/exchange.py)."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select

from app.models import Benefit
from flows.exchange.datasets import Field

IDS = bindparam("ids", expanding=True)
RECEIVING = Field("receiving", "boolean", "是否享受", "一般")
SINCE = Field("since", "string(YYYY-MM)", "自何月起享受", "一般")
BAND = Field("band", "string", "享受档次（年龄段）", "一般")


def own_benefits(programs: tuple[str, ...], with_band: bool):
    """(conn, [resident_id]) -> {resident_id: {receiving, since[, band]}} for active benefits of `programs`."""
    b = Benefit.__table__
    q = (select(b.c.resident_id, func.min(b.c.start_month), func.max(b.c.tier))
         .where(b.c.resident_id.in_(IDS), b.c.program.in_(programs), b.c.state == "active")
         .group_by(b.c.resident_id))

    def answer(conn, ids: list[int]) -> dict:
        out = {}
        for rid, since, tier in conn.execute(q, {"ids": ids}):
            out[rid] = {"receiving": True, "since": since}
            if with_band:
                out[rid]["band"] = tier
        return out
    return answer
