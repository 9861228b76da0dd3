"""A fictional program, defined here and registered only by tests/engine/test_fictional_program.py, to prove that
a program is one module: nothing outside this file knows it.

冬季关爱补贴 (fictional): a local resident aged 85 or more (a parameter) living with another adult of her registry
household is proposed the subsidy; the adult — not the subject — confirms (申请人 ≠ 对象); a street clerk
reviews; it pays a monthly amount (a parameter, dated) and, on approval, a one-off grant."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from app.models import Resident
from flows.dates import birth_cutoff, month_from_index, month_index
from flows.params import Dated
from flows.programs.base import (
    ONLINE_GUIDE,
    STAFF_REVIEW_STEP,
    STAFF_REVIEW_WAITING,
    Condition,
    Decision,
    ParamSpec,
    PersonFacts,
    Step,
    hukou_and_alive,
    zero_trip_program,
)

CODE = "winter_care_subsidy"
PARAMETERS = {
    "start_date": date(2026, 1, 1),
    "minimum_age": Dated.of(("2026-01-01", 85)),
    "amount": Dated.of(("2026-01-01", 10000)),  # monthly, in fen
    "one_off": Dated.of(("2026-01-01", 20000)),  # on approval, in fen
}
PARAMETER_SPECS = {
    "minimum_age": ParamSpec("int", 60, 120, "享受补贴的最低年龄(周岁)"),
    "amount": ParamSpec("yuan", 0, 1_000_000, "每月补贴金额(元)"),
    "one_off": ParamSpec("yuan", 0, 1_000_000, "一次性冬季关爱金(元)"),
}
GUIDE = {
    "name": "冬季关爱补贴(虚构)",
    "summary": "年满{minimum_age}周岁、与其他成年家庭成员共同生活的本市户籍老人,由家人在小程序中确认后按月领取补贴。",
    "conditions": ["具有本市户籍", "年满{minimum_age}周岁", "健在"],
    "materials": [],
    "process": ["系统主动发现", "家人在小程序中确认", "街道工作人员审核", "审核通过后次月起按月发放"],
    "time_limit": "确认后5个工作日内审核",
    "legal_basis": "虚构的政策依据(仅用于测试)",
    **ONLINE_GUIDE,
}
STEPS = (
    Step("propose", "系统主动发现并预填", "system"),
    Step("confirm", "家人确认", "citizen"),
    Step("review", "街道工作人员审核", "street", working_days=5),
    Step("pay", "次月起按月发放", "system"),
)


def _at(key: str, on: date):
    return PARAMETERS[key].at(max(on, PARAMETERS["start_date"]))


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def decide(facts: PersonFacts, as_of: date) -> Decision:
    hukou, alive = hukou_and_alive(facts, as_of, f"来源:公安人口库,{facts.source_date.isoformat()}")
    minimum = _at("minimum_age", as_of)
    age = as_of.year - facts.birth_date.year - ((as_of.month, as_of.day) < (facts.birth_date.month,
                                                                              facts.birth_date.day))
    old_enough = Condition("age", age >= minimum, str(age), facts.source, facts.source_date.isoformat(),
                           f"您今年{age}周岁,{'已' if age >= minimum else '未'}满{minimum}周岁")
    conditions = (hukou, alive, old_enough)
    if not all(c.passed for c in conditions):
        return Decision(False, conditions)
    start = month_from_index(month_index(f"{as_of:%Y-%m}") + 1)
    return Decision(True, conditions, tier="standard", monthly_amount_fen=amount_for("standard", facts.birth_date,
                                                                                      start)[1],
                    start_month=start, one_off_fen=_at("one_off", as_of))


def amount_for(benefit_tier: str, birth_date: date, month: str) -> tuple[str, int]:
    return "standard", _at("amount", date(int(month[:4]), int(month[5:7]), 1))


def guide_amounts(on: date) -> dict:
    return {"每月": _yuan(_at("amount", on)), "一次性": _yuan(_at("one_off", on))}


def candidates(as_of: date):
    """Subjects old enough, alive, local, each with every other adult (18–75) of the household as applicant."""
    subject, adult = aliased(Resident), aliased(Resident)
    return (select(subject.id.label("resident_id"), adult.id.label("applicant_id"))
            .join(adult, and_(adult.household_id == subject.household_id, adult.id != subject.id))
            .where(subject.birth_date <= birth_cutoff(as_of, _at("minimum_age", as_of)), subject.hukou_local,
                   subject.death_date.is_(None), adult.death_date.is_(None),
                   adult.birth_date <= birth_cutoff(as_of, 18), adult.birth_date > birth_cutoff(as_of, 75)))


PROGRAM = zero_trip_program(CODE, "冬季关爱补贴(虚构)", "关爱补贴", PARAMETERS, GUIDE, decide, STEPS, order=900,
                            needs_review=True, time_limit_days=5, parameter_specs=PARAMETER_SPECS,
                            amount_for=amount_for, guide_amounts=guide_amounts, step_actions=STAFF_REVIEW_STEP,
                            waiting_steps=STAFF_REVIEW_WAITING, scan="flows.scans.declared:scan",
                            candidates=f"{__name__}:candidates")
