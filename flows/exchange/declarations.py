"""Program-specific declarations of the exchange: the answers about 低保, the disability subsidies and the
高龄津贴, and the 授权核对 gate for economic records. The only exchange module that names programs; the program
engine will move each declaration into its program module."""

from __future__ import annotations

from sqlalchemy import and_, bindparam, func, select

from app.models import Application, Benefit, Resident
from flows.exchange.datasets import Answer, Field, declare_answer, declare_gate
from flows.programs import dibao, disability_care_subsidy, disability_living_subsidy, elderly_allowance

_B, _R, _A = Benefit.__table__, Resident.__table__, Application.__table__
_ids = bindparam("ids", expanding=True)
RECEIVING = Field("receiving", "boolean", "是否享受", "一般")
SINCE = Field("since", "string(YYYY-MM)", "自何月起享受", "一般")
BAND = Field("band", "string", "享受档次（年龄段）", "一般")


_RD = _R.alias("rd")
# Built once (a statement built per call costs more Python than the query itself on a one-ID search).
_HOUSEHOLD_DIBAO = (select(_R.c.id, func.min(_B.c.start_month))
                    .join(_RD, _RD.c.household_id == _R.c.household_id)
                    .join(_B, and_(_B.c.resident_id == _RD.c.id, _B.c.program == dibao.CODE, _B.c.state == "active"))
                    .where(_R.c.id.in_(_ids)).group_by(_R.c.id))


def _household_dibao(conn, ids: list[int]) -> dict:
    return {rid: {"receiving": True, "since": since} for rid, since in conn.execute(_HOUSEHOLD_DIBAO, {"ids": ids})}


def _own(programs: tuple[str, ...], with_band: bool):
    q = (select(_B.c.resident_id, func.min(_B.c.start_month), func.max(_B.c.tier))
         .where(_B.c.resident_id.in_(_ids), _B.c.program.in_(programs), _B.c.state == "active")
         .group_by(_B.c.resident_id))

    def answer(conn, ids: list[int]) -> dict:
        out = {}
        for rid, since, tier in conn.execute(q, {"ids": ids}):
            out[rid] = {"receiving": True, "since": since}
            if with_band:
                out[rid]["band"] = tier
        return out
    return answer


declare_answer(Answer("dibao_household", "最低生活保障家庭（是否、起始月）",
                      {"receiving": RECEIVING, "since": SINCE}, ("receiving",), _household_dibao,
                      {"receiving": False, "since": None}))
declare_answer(Answer("disability_subsidy", "残疾人两项补贴（是否在享）",
                      {"receiving": RECEIVING, "since": SINCE}, ("receiving",),
                      _own((disability_care_subsidy.CODE, disability_living_subsidy.CODE), False),
                      {"receiving": False, "since": None}))
declare_answer(Answer("elderly_allowance", "高龄津贴（是否、起始月、档次）",
                      {"receiving": RECEIVING, "since": SINCE, "band": BAND}, ("receiving",),
                      _own((elderly_allowance.CODE,), True), {"receiving": False, "since": None, "band": None}))


def _checking_authorized(conn, ids: list[int]) -> set[int]:
    """Residents whose household has an open 低保 case at the 核对 step (the household's 授权核对 is recorded
    when the case enters `checking`)."""
    rd = _R.alias("rd")
    q = (select(_R.c.id).join(rd, rd.c.household_id == _R.c.household_id)
         .join(_A, and_(_A.c.resident_id == rd.c.id, _A.c.program == dibao.CODE, _A.c.state == "checking"))
         .where(_R.c.id.in_(_ids)))
    return {rid for (rid,) in conn.execute(q, {"ids": ids})}


declare_gate("checking_authorized", _checking_authorized)
