"""困难残疾人生活补贴 (disability living subsidy): for disabled members (valid certificate, any grade) of a
household receiving 低保. Proposed from the certificate import or when the household's 低保 starts; reviewed by
staff; stops when the certificate expires, the household leaves 低保, or the person dies. Amounts *illustrative*.
"""

from __future__ import annotations

from datetime import date

from flows.params import Dated
from flows.programs.base import Condition, Decision, Program, Step
from flows.programs.disability_care_subsidy import (
    DIBAO_REGISTRY,
    GRADE_NAMES,
    Certificate,
    Facts,
    certificate_condition,
    registry_conditions,
    src_text,
    start_month,
)

CODE = "disability_living_subsidy"
__all__ = ["CODE", "PARAMETERS", "PROGRAM", "Certificate", "Facts", "decide", "tier_for_month"]

PARAMETERS = {
    "start_date": date(2026, 1, 1),
    "max_grade": Dated.of(("2026-01-01", 4)),
    # monthly amount in fen by grade
    "amounts": Dated.of(("2026-01-01", {1: 10000, 2: 10000, 3: 6000, 4: 6000})),
}

GUIDE = {
    "name": "困难残疾人生活补贴",
    "summary": "享受城乡低保家庭中持有有效残疾人证的本市户籍残疾人,按月领取生活补贴。证件与低保信息由部门共享,无需提交材料。",
    "conditions": ["具有本市户籍", "持有有效期内的第二代残疾人证(一至四级)", "所在家庭正在享受城乡低保", "健在"],
    "materials": [],
    "process": ["系统根据残联和低保数据主动发现", "微信通知本人或亲属", "在小程序中确认预填信息", "民政工作人员审核",
                "审核通过后次月起按月发放"],
    "time_limit": "确认后5个工作日内审核",
    "amounts": {"一级、二级": "100.00", "三级、四级": "60.00"},
    "legal_basis": "《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》(国发〔2015〕52号)",
    "trip_level": "零跑动",
    "place": "线上办理",
    "phone": "12345",
}

STEPS = (
    Step("propose", "系统根据残联和低保数据主动发现并预填", "system"),
    Step("confirm", "本人或亲属确认(无手机由社区上门协助)", "citizen"),
    Step("review", "民政工作人员审核", "street", working_days=5),
    Step("pay", "次月起按月发放", "system"),
)


def amount_for(grade: int, on: date) -> int:
    return PARAMETERS["amounts"].at(max(on, PARAMETERS["start_date"])).get(grade, 0)


def tier_for_month(grade: int, month: str) -> tuple[str, int]:
    first = date(int(month[:4]), int(month[5:7]), 1)
    if first < PARAMETERS["start_date"] or grade > PARAMETERS["max_grade"].at(first):
        return "", 0
    return f"grade{grade}", amount_for(grade, first)


def decide(facts: Facts, as_of: date) -> Decision:
    cert = facts.certificate
    conditions = [certificate_condition(facts, as_of)]
    if cert is not None:
        max_grade = PARAMETERS["max_grade"].at(max(as_of, PARAMETERS["start_date"]))
        ok = 1 <= cert.grade <= max_grade
        conditions.append(Condition("grade", ok, str(cert.grade), cert.source, cert.source_date.isoformat(),
                                    f"您的残疾等级为{GRADE_NAMES.get(cert.grade, cert.grade)}"
                                    f"({src_text(cert.source, cert.source_date)})"))
    zh = src_text(DIBAO_REGISTRY, facts.dibao_source_date)
    conditions.append(Condition(
        "dibao_household", facts.in_dibao_household, str(facts.in_dibao_household).lower(), DIBAO_REGISTRY,
        facts.dibao_source_date.isoformat() if facts.dibao_source_date else "",
        f"您所在家庭正在享受城乡低保({zh})" if facts.in_dibao_household else f"您所在家庭未享受城乡低保({zh})"))
    conditions.extend(registry_conditions(facts, as_of))
    if not all(c.passed for c in conditions):
        return Decision(False, tuple(conditions))
    return Decision(True, tuple(conditions), tier=f"grade{cert.grade}", monthly_amount_fen=amount_for(cert.grade, as_of),
                    start_month=start_month(cert, PARAMETERS["start_date"]))


PROGRAM = Program(
    code=CODE,
    name="困难残疾人生活补贴",
    short_name="生活补贴",
    start_date=PARAMETERS["start_date"],
    needs_review=True,
    trip_level="zero_trip",
    time_limit_days=5,
    guide=GUIDE,
    parameters=PARAMETERS,
    decide=decide,
    steps=STEPS,
)
