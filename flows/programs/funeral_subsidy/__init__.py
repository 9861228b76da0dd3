"""惠民殡葬补贴 (funeral subsidy) and its part of 身后一件事.

The basic funeral services (接运, 冷藏, 火化, 骨灰寄存) are usually waived at the funeral home on cremation
(直接减免); what a waiver did not cover is paid in cash, once, to the person who arranged the funeral (治丧人).

- The applicant is not the subject: the application is about the deceased and proposed to other residents
  (flows.applicants). With a cremation record (`zerotrip import cremations FILE`) it is proposed to the 治丧人
  named there (often a married daughter in another household, with no proxy grant). Without one, to every
  living adult of the deceased's registry household; the first confirmation wins, the others see who confirmed.
  A deceased with no household adult and no 治丧人 on file → a community task.
- Decided by rule on confirmation: the standard amount in force on the date of death, less what the funeral
  home already waived (never paid twice); nothing to pay → no proposal.
- Paid as a one-off line in the next roll to the applicant's own payout account (flows.one_offs; without an
  account on file the approval asks for one and the payment waits).

Amounts are *illustrative* (dated parameters, `zerotrip params set funeral_subsidy standard 1200.00`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flows.dates import zh_date
from flows.money import yuan
from flows.params import Dated
from flows.programs import base
from flows.programs.base import Condition, Decision, RegistryFacts, Step

CODE = "funeral_subsidy"
NAME = "惠民殡葬补贴"
REGISTRY, FUNERAL_HOME = "population_registry", "funeral_home"
SOURCE_NAMES = {REGISTRY: "公安人口库", FUNERAL_HOME: "殡仪馆火化信息"}

PARAMETERS = {
    "start_date": date(2026, 1, 1),
    # the basic funeral services' cost covered by the city (fen), less what the funeral home waived
    "standard": Dated.of(("2026-01-01", 120000)),
    "adult_age": Dated.of(("2026-01-01", 18)),
    # how long after a death the subsidy may still be proposed (days)
    "claim_days": Dated.of(("2026-01-01", 365)),
}
PARAMETER_SPECS = {
    "standard": base.ParamSpec("yuan", 0, 10_000_00, "基本殡葬服务补贴标准(元,扣除殡仪馆已直接减免部分)"),
    "adult_age": base.ParamSpec("int", 16, 22, "可确认申领的家庭成员最低年龄(周岁)"),
    "claim_days": base.ParamSpec("int", 30, 3650, "去世后可申领的期限(天)"),
}

GUIDE = {
    "name": NAME,
    "summary": "本市户籍居民去世后,基本殡葬服务(接运、冷藏、火化、骨灰寄存)费用由政府承担:在殡仪馆已直接减免的不再发放;"
               "未减免或未全部减免的部分,由治丧人在小程序中一键确认后一次性发放。火化信息由殡仪馆共享,无需提交材料、无需委托授权。",
    "conditions": ["逝者具有本市户籍", "人口库已登记死亡", "基本殡葬服务费用未被殡仪馆全部减免",
                   "由治丧人确认;无火化信息时由逝者户内任一成年家庭成员确认(以最先确认者为准)"],
    "materials": [],
    "process": ["殡仪馆共享火化信息(含治丧人)或人口库登记死亡", "系统向治丧人(或户内成年家庭成员)推送慰问和待确认申请",
                "一键确认,按规则即时核准", "随下一期发放名册一次性发放到确认人本人的收款账户",
                "无家属可联系的,由社区工作人员上门协助"],
    "time_limit": "确认后即时核准,随下一期发放名册发放",
    "legal_basis": "《殡葬管理条例》;民政部等《关于全面推行惠民殡葬政策的指导意见》(民发〔2012〕211号)(示例)",
    **base.ONLINE_GUIDE,
}

STEPS = (
    Step("propose", "系统根据火化信息或死亡登记主动发现并预填", "system"),
    Step("confirm", "治丧人或家庭成员一键确认(无人可联系由社区上门协助)", "citizen"),
    Step("decide", "按规则即时核准", "system"),
    Step("pay", "随下一期发放名册一次性发放", "system"),
)


@dataclass(frozen=True)
class Cremation:
    funeral_home: str
    cremation_date: date
    services: str
    waived_fen: int
    source_date: date


@dataclass(frozen=True)
class Facts(RegistryFacts):
    """The deceased as the registry has her, and her cremation record if the funeral home reported one."""

    cremation: Cremation | None = None
    source: str = REGISTRY


def _at(name: str, on: date):
    return PARAMETERS[name].at(max(on, PARAMETERS["start_date"]))


def payable_fen(died: date, waived_fen: int) -> int:
    return max(0, _at("standard", died) - waived_fen)


def decide(facts: Facts, as_of: date) -> Decision:
    src, sdate = facts.source, facts.source_date.isoformat()
    src_zh = f"来源:{SOURCE_NAMES.get(src, src)},{sdate}"
    died = facts.death_date
    conditions = [
        Condition("deceased", died is not None and died <= as_of, died.isoformat() if died else "", src, sdate,
                  f"人口库登记逝者于{zh_date(died)}去世({src_zh})" if died else f"人口库未登记死亡({src_zh})"),
        Condition("hukou_local", facts.hukou_local, str(facts.hukou_local).lower(), src, sdate,
                  f"逝者为本市户籍({src_zh})" if facts.hukou_local else f"逝者非本市户籍({src_zh})"),
    ]
    cremation = facts.cremation
    waived = cremation.waived_fen if cremation else 0
    standard = _at("standard", died or as_of)
    pay = max(0, standard - waived)
    if cremation is not None:
        c_zh = f"来源:{SOURCE_NAMES[FUNERAL_HOME]},{cremation.source_date.isoformat()}"
        text = (f"{cremation.funeral_home}于{zh_date(cremation.cremation_date)}火化,已直接减免{yuan(waived)}元,"
                f"补贴标准{yuan(standard)}元,应发{yuan(pay)}元({c_zh})")
        conditions.append(Condition("not_fully_waived", pay > 0, yuan(waived), FUNERAL_HOME,
                                    cremation.source_date.isoformat(), text))
    else:
        conditions.append(Condition("not_fully_waived", pay > 0, "0.00", "rule", as_of.isoformat(),
                                    f"暂无殡仪馆减免记录,按补贴标准{yuan(standard)}元发放(来源:政策规则)"))
    eligible = all(c.passed for c in conditions)
    return Decision(eligible, tuple(conditions), tier="one_off", monthly_amount_fen=pay if eligible else 0,
                    start_month=f"{died:%Y-%m}" if died else "")


def guide_amounts(on: date) -> dict:
    return {"基本殡葬服务补贴标准": yuan(_at("standard", on))}


PROGRAM = base.zero_trip_program(CODE, NAME, "殡葬补贴", PARAMETERS, GUIDE, decide, STEPS, simulation="flows.programs.funeral_subsidy.simulation", order=50, needs_review=False,
                                 time_limit_days=0, parameter_specs=PARAMETER_SPECS, guide_amounts=guide_amounts,
                                 daily="flows.programs.funeral_subsidy.cases:daily", confirm="flows.programs.funeral_subsidy.cases:confirm",
                                 facts="flows.programs.funeral_subsidy.cases:facts_for",
                                 about_the_deceased=True)
