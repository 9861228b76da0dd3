"""What the exchange answers about 低保 (flows.exchange.datasets), and its 授权核对 gate for economic records."""

from __future__ import annotations

from sqlalchemy import and_, func, select

from app.models import Application, Benefit, Resident
from app.sql import alias_of
from flows.exchange.answers import IDS, RECEIVING, SINCE
from flows.exchange.datasets import Answer, declare_answer, declare_gate
from flows.programs.dibao import CODE

_B, _R, _A = Benefit.__table__, Resident.__table__, Application.__table__
_RD = alias_of(_R, "rd")
# Built once (a statement built per call costs more Python than the query itself on a one-ID search).
_HOUSEHOLD = (select(_R.c.id, func.min(_B.c.start_month))
              .join(_RD, _RD.c.household_id == _R.c.household_id)
              .join(_B, and_(_B.c.resident_id == _RD.c.id, _B.c.program == CODE, _B.c.state == "active"))
              .where(_R.c.id.in_(IDS)).group_by(_R.c.id))


def _household(conn, ids: list[int]) -> dict:
    return {rid: {"receiving": True, "since": since} for rid, since in conn.execute(_HOUSEHOLD, {"ids": ids})}


declare_answer(Answer("dibao_household", "最低生活保障家庭（是否、起始月）",
                      {"receiving": RECEIVING, "since": SINCE}, ("receiving",), _household,
                      {"receiving": False, "since": None},
                      catalogue=("MZ-JZ-101", "3.27.01.11", "有条件", "实时", "benefits"),
                      asked="您家是否享受最低生活保障"))


def _checking_authorized(conn, ids: list[int]) -> set[int]:
    """Residents whose household has an open 低保 case at the 核对 step (the household's 授权核对 is recorded
    when the case enters `checking`), or receives 低保 (the 授权核对 signed with the application covers the
    动态管理 checks while the benefit runs: new income data re-checks the case, flows.lifecycle.income)."""
    rd = alias_of(_R, "rd")
    q = (select(_R.c.id).join(rd, rd.c.household_id == _R.c.household_id)
         .join(_A, and_(_A.c.resident_id == rd.c.id, _A.c.program == CODE, _A.c.state == "checking"))
         .where(_R.c.id.in_(IDS)))
    receiving = (select(_R.c.id).join(rd, rd.c.household_id == _R.c.household_id)
                 .join(_B, and_(_B.c.resident_id == rd.c.id, _B.c.program == CODE, _B.c.state == "active"))
                 .where(_R.c.id.in_(IDS)))
    return {rid for (rid,) in conn.execute(q, {"ids": ids})} | {rid for (rid,) in conn.execute(receiving, {"ids": ids})}


declare_gate("checking_authorized", _checking_authorized)
