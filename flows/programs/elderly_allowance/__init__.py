"""高龄津贴 (elderly allowance): a monthly allowance from the 80th birthday, tiers 80–89 / 90–99 / 100+.

Normative defaults (dated, so a change from a given date never alters earlier months): start 2026-01-01,
50.00 / 100.00 / 300.00 yuan a month. Approved by rule, no human review, zero trips.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from flows.dates import age_on, month_from_index, month_index, nth_birthday, zh_date
from flows.params import Dated
from flows.programs import base
from flows.programs.base import Condition, Decision, RegistryFacts, Step

CODE = "elderly_allowance"
REGISTRY = "population_registry"
SOURCE_NAMES = {REGISTRY: "公安人口库", "rule": "政策规则"}

PARAMETERS = {
    "start_date": date(2026, 1, 1),
    "minimum_age": Dated.of(("2026-01-01", 80)),
    # (minimum age, tier label, monthly amount in fen), highest first
    "tiers": Dated.of(("2026-01-01", ((100, "100+", 30000), (90, "90-99", 10000), (80, "80-89", 5000)))),
}

GUIDE = {
    "name": "高龄津贴",
    "summary": "年满{minimum_age}周岁的本市户籍老年人,按月领取高龄津贴。数据由政府部门共享,无需申请、无需跑腿。",
    "conditions": ["具有本市户籍", "年满{minimum_age}周岁(生日当天即满)", "健在"],
    "materials": [],
    "process": ["系统按户籍数据主动发现", "微信消息通知本人或亲属", "在小程序中一键确认", "按规则自动审批", "次月起按月发放"],
    "time_limit": "确认后即时办结",
    "legal_basis": "《太原市高龄津贴发放管理办法》(示例)",
    **base.ONLINE_GUIDE,
}


@dataclass(frozen=True)
class Facts(RegistryFacts):
    """What the rule needs to know about one resident, each with its source date."""

    source: str = REGISTRY


def minimum_age_segments() -> list[tuple[date, int]]:
    """[(from, minimum age)] in order; the first from the program's start."""
    changes = list(PARAMETERS["minimum_age"].changes)
    start = PARAMETERS["start_date"]
    return [(max(d, start), age) for d, age in changes]


def effective_tiers(on: date) -> tuple:
    """The tiers in force on `on`, highest first, the lowest starting at the minimum age then in force (a lower
    minimum age, e.g. 75, is paid at the lowest tier's amount)."""
    on = max(on, PARAMETERS["start_date"])
    tiers = tuple(PARAMETERS["tiers"].at(on))
    lowest_age, label, fen = tiers[-1]
    minimum = PARAMETERS["minimum_age"].at(on)
    return (*tiers[:-1], (min(lowest_age, minimum), label, fen)) if minimum < lowest_age else tiers


def tier_for(age: int, on: date) -> tuple[str, int]:
    for min_age, label, fen in effective_tiers(on):
        if age >= min_age:
            return label, fen
    return "", 0


def first_month(birth_date: date) -> str:
    """The first month paid: the month after the birthday that reaches the minimum age in force, never before
    that minimum age took effect (a threshold lowered from a month proposes the new cohort from that month)."""
    segments = minimum_age_segments()
    for i, (since, age) in enumerate(segments):
        turned = nth_birthday(birth_date, age)
        idx = max(turned.year * 12 + turned.month, since.year * 12 + since.month - 1)
        until = segments[i + 1][0] if i + 1 < len(segments) else None
        if until is None or idx < until.year * 12 + until.month - 1:
            return month_from_index(idx)
    return month_from_index(month_index(f"{PARAMETERS['start_date']:%Y-%m}"))


def month_start(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


def tier_for_month(birth_date: date, month: str) -> tuple[str, int]:
    """The tier and amount owed for `month`: a tier starts the month after the birthday that reaches it.

    The amounts are those in force on the first day of `month`, so a later parameter change never alters
    an earlier month. ("", 0) before the program starts or before the first month paid.
    """
    first = month_start(month)
    if first < PARAMETERS["start_date"] or month < first_month(birth_date):
        return "", 0
    idx = month_index(month)
    tiers = effective_tiers(first)
    for min_age, label, fen in tiers[:-1]:
        turned = nth_birthday(birth_date, min_age)
        if turned.year * 12 + turned.month - 1 < idx:
            return label, fen
    return tiers[-1][1], tiers[-1][2]


STEPS = (
    Step("propose", "系统主动发现并预填", "system"),
    Step("confirm", "本人或亲属一键确认(无手机由社区上门协助)", "citizen"),
    Step("decide", "按规则自动审批", "system"),
    Step("pay", "次月起按月发放", "system"),
)


def decide(facts: Facts, as_of: date) -> Decision:
    """Pure rule: alive, local hukou, aged ≥ 80 on `as_of`; tier by the age on `as_of`."""
    src, sdate = facts.source, facts.source_date.isoformat()
    src_zh = f"来源:{SOURCE_NAMES.get(src, src)},{sdate}"
    min_age = PARAMETERS["minimum_age"].at(max(as_of, PARAMETERS["start_date"]))
    age = age_on(facts.birth_date, as_of)
    turned = nth_birthday(facts.birth_date, min_age)
    conditions = (
        Condition("age", age >= min_age, str(age), src, sdate,
                  f"您于{zh_date(turned)}年满{min_age}周岁({src_zh})" if age >= min_age
                  else f"您将于{zh_date(turned)}年满{min_age}周岁({src_zh})"),
        *base.hukou_and_alive(facts, as_of, src_zh),
    )
    eligible = all(c.passed for c in conditions)
    if not eligible:
        return Decision(False, conditions)
    label, fen = tier_for(age, max(as_of, PARAMETERS["start_date"]))
    return Decision(True, conditions, tier=label, monthly_amount_fen=fen, start_month=first_month(facts.birth_date))


PARAMETER_SPECS = {
    "minimum_age": base.ParamSpec("int", 60, 100, "起始年龄(周岁)"),
    "tiers.80-89": base.ParamSpec("yuan", 0, 1_000_000, "80—89周岁每月金额(元)"),
    "tiers.90-99": base.ParamSpec("yuan", 0, 1_000_000, "90—99周岁每月金额(元)"),
    "tiers.100+": base.ParamSpec("yuan", 0, 1_000_000, "100周岁及以上每月金额(元)"),
}


def amount_for(benefit_tier: str, birth_date: date, month: str) -> tuple[str, int] | None:
    return tier_for_month(birth_date, month)


def guide_amounts(on: date) -> dict:
    return {label: f"{fen // 100}.{fen % 100:02d}" for _age, label, fen in PARAMETERS["tiers"].at(
        max(on, PARAMETERS["start_date"]))}


PROGRAM = base.zero_trip_program(CODE, "高龄津贴", "高龄津贴", PARAMETERS, GUIDE, decide, STEPS,
                                 order=10, needs_review=False, time_limit_days=0, parameter_specs=PARAMETER_SPECS,
                                 amount_for=amount_for, guide_amounts=guide_amounts,
                                 scan="flows.programs.elderly_allowance.scan:scan",
                                 daily="flows.programs.elderly_allowance.lifecycle:raise_tiers",
                                 resume_on_move_in=True, exchange="flows.programs.elderly_allowance.exchange",
                                 simulation="flows.programs.elderly_allowance.simulation")

# Its wording in messages and in the resident's trace (Program.tier_texts, change_texts).
PROGRAM = replace(PROGRAM, tier_texts={"100+": "100岁及以上", "90-99": "90至99岁", "80-89": "80至89岁"},
                  change_texts={"tier_raised": "您于{turned}年满{value}周岁,自{month}起按{tier}档每月{amount}元发放{src}"})
