"""困难群众价格临时补贴 (price subsidy, 社会救助和保障标准与物价上涨挂钩的联动机制).

When the price index triggers the mechanism for a month, every person counted in a 低保 case active in that
month is paid a fixed amount once (urban and rural amounts may differ), with no application and no confirmation
(免申即享 in the strict sense): an admin triggers it (`zerotrip programs trigger price_subsidy --index-month
YYYY-MM --amount-per-person 30.00 [--amount-rural …] --by USER`), a second admin approves it, and the first roll
closed after the approval pays one line per household (persons × amount) with one notice per household.
Casework: flows.programs.price_subsidy.trigger. Out of scope until their data exists: 特困, 孤儿, 优抚 and 失业保险金 recipients.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flows.money import yuan
from flows.params import Dated
from flows.programs import base
from flows.programs.base import Condition, Decision, Step

CODE = "price_subsidy"
NAME = "困难群众价格临时补贴"

PARAMETERS = {
    "start_date": date(2026, 1, 1),
    # the highest amount per person and month an operator may trigger (fen)
    "max_amount": Dated.of(("2026-01-01", 100000)),
}
PARAMETER_SPECS = {"max_amount": base.ParamSpec("yuan", 0, 1_000_000, "每人每月可发放的最高金额(元)")}

GUIDE = {
    "name": NAME,
    "summary": "价格指数达到启动条件的月份,城乡低保家庭的每位成员按月领取价格临时补贴。无需申请、无需确认,"
               "经两名管理员审批后随下一期发放名册发放,每户收到一条通知。",
    "conditions": ["所在家庭在启动月份正在享受城乡低保", "计入低保家庭成员名单(按人计发)"],
    "materials": [],
    "process": ["价格指数达到启动条件", "管理员发起、另一名管理员审批", "按低保家庭人数随下一期发放名册发放", "每户一条发放通知"],
    "time_limit": "审批后随下一期发放名册发放",
    "out_of_scope": "特困人员、孤儿、优抚对象和失业保险金领取人员暂不在本系统发放范围内(待相关数据接入后纳入)",
    "legal_basis": "《关于进一步完善社会救助和保障标准与物价上涨挂钩联动机制的通知》(发改价格规〔2021〕1330号)(示例)",
    **base.ONLINE_GUIDE,
}

STEPS = (
    Step("trigger", "管理员按价格指数发起", "county"),
    Step("approve", "另一名管理员审批", "county"),
    Step("pay", "随下一期发放名册按人发放,无需确认", "system"),
)


@dataclass(frozen=True)
class Facts:
    """One 低保 case in the index month: whether it was active, and the persons counted in it."""

    index_month: str
    dibao_active: bool
    persons: int
    amount_per_person_fen: int
    source_date: date


def decide(facts: Facts, as_of: date) -> Decision:
    src = "dibao_registry"
    conditions = (
        Condition("dibao_active", facts.dibao_active, str(facts.dibao_active).lower(), src,
                  facts.source_date.isoformat(),
                  f"您的家庭{facts.index_month}正在享受城乡低保(来源:低保对象数据库)" if facts.dibao_active
                  else f"您的家庭{facts.index_month}未享受城乡低保(来源:低保对象数据库)"),
        Condition("persons", facts.persons > 0, str(facts.persons), src, facts.source_date.isoformat(),
                  f"低保家庭成员{facts.persons}人,每人{yuan(facts.amount_per_person_fen)}元"),
    )
    eligible = all(c.passed for c in conditions)
    return Decision(eligible, conditions, tier="one_off",
                    monthly_amount_fen=facts.persons * facts.amount_per_person_fen if eligible else 0,
                    start_month=facts.index_month)


def guide_amounts(on: date) -> dict:
    return {"每人每月最高": yuan(PARAMETERS["max_amount"].at(max(on, PARAMETERS["start_date"])))}


PROGRAM = base.zero_trip_program(CODE, NAME, "价格补贴", PARAMETERS, GUIDE, decide, STEPS, simulation="flows.programs.price_subsidy.simulation", order=60, needs_review=False,
                                 time_limit_days=0, parameter_specs=PARAMETER_SPECS, guide_amounts=guide_amounts,
                                 trigger="flows.programs.price_subsidy.trigger:trigger",
                                 withdraw_trigger="flows.programs.price_subsidy.trigger:withdraw_approved", facts="flows.programs.price_subsidy.trigger:facts_for")
