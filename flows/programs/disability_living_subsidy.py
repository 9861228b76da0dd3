"""困难残疾人生活补贴 (disability living subsidy): for disabled members (valid certificate, any grade) of a
household receiving 低保. Proposed from the certificate import or when the household's 低保 starts; reviewed by
staff and approved by another member of staff; stops when the certificate expires, the household leaves 低保, or the person dies. Amounts *illustrative*.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from flows.params import Dated
from flows.programs.base import (
    ONLINE_GUIDE,
    STAFF_REVIEW_AND_APPROVAL,
    STAFF_REVIEW_AND_APPROVAL_WAITING,
    Condition,
    Decision,
    ParamSpec,
    zero_trip_program,
)
from flows.programs.disability_care_subsidy import (
    CERTIFICATE_LABELS,
    CERTIFICATE_VALUES,
    DIBAO_HOUSEHOLD,
    DIBAO_REGISTRY,
    GRADE_NAMES,
    LEGAL_BASIS,
    Certificate,
    Facts,
    certificate_condition,
    certificate_decision,
    grade_tier_for_month,
    registry_conditions,
    reviewed_steps,
    src_text,
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
                "另一位工作人员审批", "审批通过后次月起按月发放"],
    "time_limit": "确认后5个工作日内审核,审核后5个工作日内审批",
    "legal_basis": LEGAL_BASIS,
    **ONLINE_GUIDE,
}

STEPS = reviewed_steps("系统根据残联和低保数据主动发现并预填")


def tier_for_month(grade: int, month: str) -> tuple[str, int]:
    return grade_tier_for_month(PARAMETERS, grade, month)


def decide(facts: Facts, as_of: date) -> Decision:
    cert = facts.certificate
    conditions = [certificate_condition(facts, as_of)]
    if cert is not None:
        max_grade = PARAMETERS["max_grade"].at(max(as_of, PARAMETERS["start_date"]))
        ok = 1 <= cert.grade <= max_grade
        conditions.append(Condition("grade", ok, str(cert.grade), cert.source, cert.source_date.isoformat(),
                                    f"您的残疾等级为{GRADE_NAMES.get(cert.grade, cert.grade)}"
                                    f"({src_text(cert.source, cert.source_date)})"))
    zh = src_text(DIBAO_REGISTRY, facts.household_benefit_source_date)
    conditions.append(Condition(
        DIBAO_HOUSEHOLD, facts.in_household_benefit, str(facts.in_household_benefit).lower(), DIBAO_REGISTRY,
        facts.household_benefit_source_date.isoformat() if facts.household_benefit_source_date else "",
        f"您所在家庭正在享受城乡低保({zh})" if facts.in_household_benefit else f"您所在家庭未享受城乡低保({zh})"))
    conditions.extend(registry_conditions(facts, as_of))
    return certificate_decision(PARAMETERS, conditions, cert, as_of)


PARAMETER_SPECS = {
    "max_grade": ParamSpec("int", 1, 4, "可享受的最低残疾等级(级)"),
    "amounts.1": ParamSpec("yuan", 0, 1_000_000, "一级残疾人每月金额(元)"),
    "amounts.2": ParamSpec("yuan", 0, 1_000_000, "二级残疾人每月金额(元)"),
    "amounts.3": ParamSpec("yuan", 0, 1_000_000, "三级残疾人每月金额(元)"),
    "amounts.4": ParamSpec("yuan", 0, 1_000_000, "四级残疾人每月金额(元)"),
}


def amount_for(benefit_tier: str, birth_date: date, month: str) -> tuple[str, int] | None:
    """What a benefit of tier "gradeN" is owed for `month` (None for a tier that is not a grade)."""
    if not benefit_tier.startswith("grade"):
        return None
    return tier_for_month(int(benefit_tier[5:]), month)


def guide_amounts(on: date) -> dict:
    amounts = PARAMETERS["amounts"].at(max(on, PARAMETERS["start_date"]))
    return {GRADE_NAMES[g]: f"{fen // 100}.{fen % 100:02d}" for g, fen in sorted(amounts.items())}


PROGRAM = zero_trip_program(CODE, "困难残疾人生活补贴", "生活补贴", PARAMETERS, GUIDE, decide, STEPS,
                            order=30, needs_review=True, time_limit_days=10, parameter_specs=PARAMETER_SPECS,
                            amount_for=amount_for, guide_amounts=guide_amounts, step_actions=STAFF_REVIEW_AND_APPROVAL,
                            scan="flows.programs.disability_care_subsidy.scan:scan", certificate_based=True,
                            facts="flows.certificate_facts:facts_for", waiting_steps=STAFF_REVIEW_AND_APPROVAL_WAITING,
                            exchange="flows.programs.disability_care_subsidy.exchange", requires_household_benefit="dibao",
                            household_fact=(DIBAO_HOUSEHOLD, DIBAO_REGISTRY))

# Its wording for a stop at the certificate's expiry or when the household leaves 低保 (Program.stop_texts,
# change_texts; the stop reason is "<household program>_ended", flows.lifecycle.jobs).
PROGRAM = replace(PROGRAM, field_labels=CERTIFICATE_LABELS, field_values=CERTIFICATE_VALUES, stop_texts={
    "certificate_expired": ("残疾人证已过有效期", "因残疾人证已过有效期，", "换领新证后可重新申请"),
    "dibao_ended": ("家庭已不再享受低保", "因您的家庭已不再享受城乡低保，", "如有异议请联系社区")},
    change_texts={"certificate_expired": "残疾人证有效期至{value},自{month}起停止发放{src}",
                  "dibao_ended": "您所在家庭已不再享受城乡低保,自{month}起停止发放{src}"})
