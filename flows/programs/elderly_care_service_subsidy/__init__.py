"""经济困难老年人养老服务补贴 (elderly care service subsidy): for people aged ≥ 60 counted in an active 低保 case's
member list (not everyone on the 户口簿) with a valid care-need assessment (老年人能力评估, GB/T 42195-2022,
levels 0 能力完好 … 4 完全失能) at an eligible level. Amount per level; validity, eligible levels and amounts
are dated parameters (*illustrative*). Proposed from the assessment import (`zerotrip import care-assessments`),
decided by rule on confirmation with no field asked (一次录入,多次使用). An eligible member with no valid
assessment → a community task to arrange one, not a proposal. A new assessment re-prices or stops the subsidy
from the next month. Paid in cash (service vouchers would be a later payment kind).

择高 (higher of the two): someone who also receives the 重度残疾人护理补贴 keeps the higher of the two; the trace
says which was chosen and why (declared as Program.exclusive_with). Casework: flows.programs.elderly_care_service_subsidy.cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flows.dates import age_on, month_from_index, zh_date
from flows.money import yuan
from flows.params import Dated
from flows.programs import base
from flows.programs.base import Condition, Decision, RegistryFacts, Step

CODE = "elderly_care_service_subsidy"
NAME = "经济困难老年人养老服务补贴"
HIGHER_OF = "disability_care_subsidy"  # 择高 with the 重度残疾人护理补贴
LEVEL_NAMES = {0: "能力完好", 1: "能力轻度受损(轻度失能)", 2: "能力中度受损(中度失能)", 3: "能力重度受损(重度失能)",
               4: "能力完全丧失(完全失能)"}
SOURCE_NAMES = {"population_registry": "公安人口库", "care_assessment": "老年人能力评估", "dibao_registry": "低保对象数据库"}

PARAMETERS = {
    "start_date": date(2026, 1, 1),
    "minimum_age": Dated.of(("2026-01-01", 60)),
    "validity_months": Dated.of(("2026-01-01", 12)),
    "minimum_level": Dated.of(("2026-01-01", 2)),
    "amounts": Dated.of(("2026-01-01", {2: 10000, 3: 20000, 4: 30000})),  # fen a month by level
}
PARAMETER_SPECS = {
    "minimum_age": base.ParamSpec("int", 50, 80, "起始年龄(周岁)"),
    "validity_months": base.ParamSpec("int", 1, 60, "能力评估结果有效期(月)"),
    "minimum_level": base.ParamSpec("int", 1, 4, "可享受的最低能力等级(级)"),
    "amounts.2": base.ParamSpec("yuan", 0, 1_000_000, "中度失能每月金额(元)"),
    "amounts.3": base.ParamSpec("yuan", 0, 1_000_000, "重度失能每月金额(元)"),
    "amounts.4": base.ParamSpec("yuan", 0, 1_000_000, "完全失能每月金额(元)"),
}

GUIDE = {
    "name": NAME,
    "summary": "城乡低保家庭中年满{minimum_age}周岁、经老年人能力评估为中度及以上失能的老年人,按月领取养老服务补贴(现金发放)。"
               "评估结果由评估机构共享,无需填写任何信息;未评估的由社区上门安排评估。",
    "conditions": ["年满{minimum_age}周岁", "计入正在享受城乡低保的家庭成员名单", "老年人能力评估结果在有效期内且为中度失能及以上",
                   "同时享受重度残疾人护理补贴的,按就高原则享受其一"],
    "materials": [],
    "process": ["系统根据低保和能力评估数据主动发现", "微信通知本人或亲属", "一键确认,按规则即时核准", "次月起按月发放",
                "评估结果变化的,次月起调整或停发"],
    "time_limit": "确认后即时办结",
    "payment_kind": "现金(服务券为后续支付方式)",
    "legal_basis": "《关于建立健全经济困难的高龄、失能等老年人补贴制度的通知》(财社〔2014〕113号);GB/T 42195-2022(示例)",
    **base.ONLINE_GUIDE,
}

STEPS = (
    Step("propose", "系统根据低保和能力评估数据主动发现并预填", "system"),
    Step("confirm", "本人或亲属一键确认(无手机由社区上门协助)", "citizen"),
    Step("decide", "按规则即时核准", "system"),
    Step("pay", "次月起按月发放", "system"),
)


@dataclass(frozen=True)
class Assessment:
    assessed_on: date
    level: int
    assessor: str
    source_date: date


@dataclass(frozen=True)
class Facts(RegistryFacts):
    in_dibao_case: bool = False
    dibao_source_date: date | None = None
    assessment: Assessment | None = None  # the latest one
    higher_of_amount_fen: int = 0  # the 护理补贴 in payment, 0 when none
    source: str = "population_registry"


def _at(name: str, on: date):
    return PARAMETERS[name].at(max(on, PARAMETERS["start_date"]))


def valid_until(a: Assessment, on: date) -> date:
    """The last day the assessment is valid (validity months in force on its date)."""
    months = _at("validity_months", a.assessed_on)
    idx = a.assessed_on.year * 12 + a.assessed_on.month - 1 + months
    y, m = divmod(idx, 12)
    day = min(a.assessed_on.day, 28)
    return date(y, m + 1, day)


def next_month(d: date) -> str:
    return month_from_index(d.year * 12 + d.month)


def amount_for_level(level: int, on: date) -> int:
    return _at("amounts", on).get(level, 0) if level >= _at("minimum_level", on) else 0


def decide(facts: Facts, as_of: date) -> Decision:
    src, sdate = facts.source, facts.source_date.isoformat()
    reg = f"来源:{SOURCE_NAMES.get(src, src)},{sdate}"
    min_age = _at("minimum_age", as_of)
    age = age_on(facts.birth_date, as_of)
    conditions = [
        Condition("age", age >= min_age, str(age), src, sdate, f"您今年{age}周岁,满{min_age}周岁({reg})"
                  if age >= min_age else f"您今年{age}周岁,未满{min_age}周岁({reg})"),
        *base.hukou_and_alive(facts, as_of, reg),
    ]
    dsd = facts.dibao_source_date.isoformat() if facts.dibao_source_date else ""
    conditions.append(Condition("dibao_member", facts.in_dibao_case, str(facts.in_dibao_case).lower(),
                                "dibao_registry", dsd, "您计入正在享受城乡低保的家庭成员名单(来源:低保对象数据库)"
                                if facts.in_dibao_case else "您不在正在享受城乡低保的家庭成员名单中(来源:低保对象数据库)"))
    a = facts.assessment
    fen = 0
    if a is None:
        conditions.append(Condition("assessment_valid", False, "", "care_assessment", "",
                                    "暂无老年人能力评估结果,社区将上门安排评估"))
    else:
        until = valid_until(a, as_of)
        asrc = f"来源:{SOURCE_NAMES['care_assessment']},{a.source_date.isoformat()}"
        valid = a.assessed_on <= as_of <= until
        conditions.append(Condition("assessment_valid", valid, until.isoformat(), "care_assessment",
                                    a.source_date.isoformat(),
                                    f"{a.assessor}于{zh_date(a.assessed_on)}评估,有效期至{zh_date(until)}({asrc})"
                                    if valid else f"能力评估已于{zh_date(until)}过期({asrc})"))
        fen = amount_for_level(a.level, as_of)
        min_level = _at("minimum_level", as_of)
        conditions.append(Condition("care_level", a.level >= min_level, str(a.level), "care_assessment",
                                    a.source_date.isoformat(),
                                    f"能力等级为{a.level}级{LEVEL_NAMES.get(a.level, '')}"
                                    + (f",每月{yuan(fen)}元" if fen else f",低于{min_level}级") + f"({asrc})"))
    if facts.higher_of_amount_fen:
        ours_higher = fen > facts.higher_of_amount_fen
        conditions.append(Condition(
            "higher_of_two", ours_higher, yuan(facts.higher_of_amount_fen), "rule", as_of.isoformat(),
            f"择高:养老服务补贴每月{yuan(fen)}元高于正在享受的重度残疾人护理补贴每月{yuan(facts.higher_of_amount_fen)}元,"
            "按就高原则改为享受养老服务补贴,护理补贴自同月起停发" if ours_higher else
            f"择高:正在享受的重度残疾人护理补贴每月{yuan(facts.higher_of_amount_fen)}元不低于养老服务补贴每月"
            f"{yuan(fen)}元,按就高原则继续享受护理补贴"))
    eligible = all(c.passed for c in conditions)
    level = a.level if a else 0
    return Decision(eligible, tuple(conditions), tier=f"level{level}" if eligible else "",
                    monthly_amount_fen=fen if eligible else 0, start_month=next_month(as_of) if eligible else "")


def amount_for(benefit_tier: str, birth_date: date, month: str) -> tuple[str, int] | None:
    if not benefit_tier.startswith("level"):
        return None
    level = int(benefit_tier[5:])
    return benefit_tier, amount_for_level(level, date(int(month[:4]), int(month[5:7]), 1))


def guide_amounts(on: date) -> dict:
    return {LEVEL_NAMES[lv]: yuan(fen) for lv, fen in sorted(_at("amounts", on).items())}


PROGRAM = base.zero_trip_program(CODE, NAME, "养老服务补贴", PARAMETERS, GUIDE, decide, STEPS, simulation="flows.programs.elderly_care_service_subsidy.simulation", order=70, exclusive_with=(HIGHER_OF,), needs_review=False,
                                 time_limit_days=0, parameter_specs=PARAMETER_SPECS, amount_for=amount_for,
                                 guide_amounts=guide_amounts, daily="flows.programs.elderly_care_service_subsidy.cases:daily",
                                 confirm="flows.programs.elderly_care_service_subsidy.cases:confirm", facts="flows.programs.elderly_care_service_subsidy.cases:facts_for")
