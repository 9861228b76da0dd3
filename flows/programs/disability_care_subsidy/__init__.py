"""重度残疾人护理补贴 (disability care subsidy): for holders of a valid grade 1–2 disability certificate.

Proposed from the 残联 certificate import and pre-filled from the certificate (the citizen never uploads it and
nothing is sent back to the federation); the citizen confirms, a staff member reviews and another
approves. Stops from the month after
the certificate expires or the person dies. Amounts are *illustrative* and dated.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from flows.dates import month_from_index, month_index, zh_date
from flows.params import Dated
from flows.programs.base import (
    ONLINE_GUIDE,
    STAFF_REVIEW_AND_APPROVAL,
    STAFF_REVIEW_AND_APPROVAL_WAITING,
    Condition,
    Decision,
    ParamSpec,
    RegistryFacts,
    Step,
    hukou_and_alive,
    zero_trip_program,
)

CODE = "disability_care_subsidy"
REGISTRY = "population_registry"
FEDERATION = "disabled_persons_federation"
DIBAO_REGISTRY = "dibao_registry"
# The fact of a program that needs a household member's 低保 (requires_household_benefit): its condition and
# pre-filled field (the scan), from DIBAO_REGISTRY.
DIBAO_HOUSEHOLD = "dibao_household"
SOURCE_NAMES = {REGISTRY: "公安人口库", FEDERATION: "残联残疾人证数据", DIBAO_REGISTRY: "低保对象数据库",
                "rule": "政策规则"}
CATEGORIES = {"1": "视力残疾", "2": "听力残疾", "3": "言语残疾", "4": "肢体残疾", "5": "智力残疾",
              "6": "精神残疾", "7": "多重残疾"}
GRADE_NAMES = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}

PARAMETERS = {
    "start_date": date(2026, 1, 1),
    "max_grade": Dated.of(("2026-01-01", 2)),
    # monthly amount in fen by grade
    "amounts": Dated.of(("2026-01-01", {1: 10000, 2: 8000})),
}

LEGAL_BASIS = "《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》(国发〔2015〕52号)"

GUIDE = {
    "name": "重度残疾人护理补贴",
    "summary": "持有有效期内一级、二级残疾人证的本市户籍残疾人,按月领取护理补贴。证件信息由残联共享,无需上传证件。",
    "conditions": ["具有本市户籍", "持有有效期内的第二代残疾人证", "残疾等级为一级或二级", "健在"],
    "materials": [],
    "process": ["系统根据残联数据主动发现", "微信通知本人或亲属", "在小程序中确认预填信息", "民政工作人员审核",
                "另一位工作人员审批", "审批通过后次月起按月发放"],
    "time_limit": "确认后5个工作日内审核,审核后5个工作日内审批",
    "legal_basis": LEGAL_BASIS,
    **ONLINE_GUIDE,
}


def reviewed_steps(propose: str) -> tuple[Step, ...]:
    """Proposed by the system (`propose`), confirmed by the citizen, reviewed by staff, approved by a different
    person (segregation of duties: flows.casework.approve), paid from next month."""
    return (
        Step("propose", propose, "system"),
        Step("confirm", "本人或亲属确认(无手机由社区上门协助)", "citizen"),
        Step("review", "民政工作人员审核", "street", working_days=5),
        Step("approve", "区县民政部门审批(与审核人不是同一人)", "county", working_days=5),
        Step("pay", "次月起按月发放", "system"),
    )


STEPS = reviewed_steps("系统根据残联数据主动发现并预填")


@dataclass(frozen=True)
class Certificate:
    category: str
    grade: int
    issue_date: date
    expiry_date: date
    source_date: date
    mask: str = ""
    source: str = FEDERATION

    def valid_on(self, day: date) -> bool:
        return self.issue_date <= day <= self.expiry_date


@dataclass(frozen=True)
class Facts(RegistryFacts):
    certificate: Certificate | None
    in_household_benefit: bool = False
    household_benefit_source_date: date | None = None
    source: str = REGISTRY


def src_text(source: str, when: date | None) -> str:
    return f"来源:{SOURCE_NAMES.get(source, source)},{when.isoformat() if when else '无记录'}"


def registry_conditions(facts: Facts, as_of: date) -> tuple[Condition, ...]:
    return hukou_and_alive(facts, as_of, src_text(facts.source, facts.source_date))


def certificate_condition(facts: Facts, as_of: date) -> Condition:
    cert = facts.certificate
    if cert is None:
        return Condition("certificate_valid", False, "none", FEDERATION, "", "残联数据中没有您的有效残疾人证")
    valid = cert.valid_on(as_of)
    zh = src_text(cert.source, cert.source_date)
    kind = f"{CATEGORIES.get(cert.category, '残疾')}{GRADE_NAMES.get(cert.grade, '')}"
    text = (f"您持有{kind}残疾人证,有效期至{zh_date(cert.expiry_date)}({zh})" if valid
            else f"您的残疾人证有效期为{zh_date(cert.issue_date)}至{zh_date(cert.expiry_date)},"
                 f"{zh_date(as_of)}不在有效期内({zh})")
    return Condition("certificate_valid", valid, f"{cert.issue_date}..{cert.expiry_date}", cert.source,
                     cert.source_date.isoformat(), text)


def start_month(cert: Certificate, start: date) -> str:
    """The month after the certificate's issue date, but not before the program's start."""
    idx = cert.issue_date.year * 12 + cert.issue_date.month  # index of the next month
    return month_from_index(max(idx, start.year * 12 + start.month - 1))


def last_month(cert: Certificate) -> str:
    """The last payable month: the month in which the certificate expires."""
    return f"{cert.expiry_date:%Y-%m}"


def grade_amount(parameters: dict, grade: int, on: date) -> int:
    """The monthly amount in fen for a certificate `grade` under `parameters`, as in force on `on`."""
    return parameters["amounts"].at(max(on, parameters["start_date"])).get(grade, 0)


def grade_tier_for_month(parameters: dict, grade: int, month: str) -> tuple[str, int]:
    """The tier and amount owed for `month` under `parameters`; ("", 0) before the start or above the max grade."""
    first = date(int(month[:4]), int(month[5:7]), 1)
    if first < parameters["start_date"] or grade > parameters["max_grade"].at(first):
        return "", 0
    return f"grade{grade}", grade_amount(parameters, grade, first)


def certificate_decision(parameters: dict, conditions: list[Condition], cert: Certificate | None,
                         as_of: date) -> Decision:
    """Eligible if every condition passed: then the certificate's grade sets the tier and amount."""
    if not all(c.passed for c in conditions):
        return Decision(False, tuple(conditions))
    return Decision(True, tuple(conditions), tier=f"grade{cert.grade}",
                    monthly_amount_fen=grade_amount(parameters, cert.grade, as_of),
                    start_month=start_month(cert, parameters["start_date"]))


def tier_for_month(grade: int, month: str) -> tuple[str, int]:
    return grade_tier_for_month(PARAMETERS, grade, month)


def decide(facts: Facts, as_of: date) -> Decision:
    on = max(as_of, PARAMETERS["start_date"])
    max_grade = PARAMETERS["max_grade"].at(on)
    cert = facts.certificate
    conditions = [certificate_condition(facts, as_of)]
    if cert is not None:
        ok = cert.grade <= max_grade
        conditions.append(Condition(
            "grade", ok, str(cert.grade), cert.source, cert.source_date.isoformat(),
            f"您的残疾等级为{GRADE_NAMES.get(cert.grade, cert.grade)},"
            f"{'属于' if ok else '不属于'}一至{GRADE_NAMES[max_grade][0]}级重度残疾({src_text(cert.source, cert.source_date)})"))
    conditions.extend(registry_conditions(facts, as_of))
    return certificate_decision(PARAMETERS, conditions, cert, as_of)


def month_is_payable(cert_expiry: date, month: str) -> bool:
    return month_index(month) <= cert_expiry.year * 12 + cert_expiry.month - 1


PARAMETER_SPECS = {
    "max_grade": ParamSpec("int", 1, 4, "可享受的最低残疾等级(级)"),
    "amounts.1": ParamSpec("yuan", 0, 1_000_000, "一级残疾人每月金额(元)"),
    "amounts.2": ParamSpec("yuan", 0, 1_000_000, "二级残疾人每月金额(元)"),
}


def amount_for(benefit_tier: str, birth_date: date, month: str) -> tuple[str, int] | None:
    """What a benefit of tier "gradeN" is owed for `month` (None for a tier that is not a grade)."""
    if not benefit_tier.startswith("grade"):
        return None
    return tier_for_month(int(benefit_tier[5:]), month)


def guide_amounts(on: date) -> dict:
    amounts = PARAMETERS["amounts"].at(max(on, PARAMETERS["start_date"]))
    return {GRADE_NAMES[g]: f"{fen // 100}.{fen % 100:02d}" for g, fen in sorted(amounts.items())}


PROGRAM = zero_trip_program(CODE, "重度残疾人护理补贴", "护理补贴", PARAMETERS, GUIDE, decide, STEPS,
                            order=20, needs_review=True, time_limit_days=10, parameter_specs=PARAMETER_SPECS,
                            amount_for=amount_for, guide_amounts=guide_amounts, step_actions=STAFF_REVIEW_AND_APPROVAL,
                            scan="flows.programs.disability_care_subsidy.scan:scan", certificate_based=True,
                            facts="flows.certificate_facts:facts_for", waiting_steps=STAFF_REVIEW_AND_APPROVAL_WAITING,
                            exchange="flows.programs.disability_care_subsidy.exchange")

# Its certificate's fields by name, and its wording for a stop at the certificate's expiry (Program.field_labels,
# stop_texts, change_texts).
CERTIFICATE_LABELS = {"certificate": "残疾人证号", "disability_category": "残疾类别", "disability_grade": "残疾等级",
                      "certificate_issue_date": "发证日期", "certificate_expiry_date": "证件有效期至"}
# The certificate's codes in words (Program.field_values): its category and grade, and the tier they set.
CERTIFICATE_VALUES = {"disability_category": CATEGORIES,
                      "disability_grade": {str(g): words for g, words in GRADE_NAMES.items()},
                      "tier": {f"grade{g}": words for g, words in GRADE_NAMES.items()}}
PROGRAM = replace(PROGRAM, field_labels=CERTIFICATE_LABELS, field_values=CERTIFICATE_VALUES,
    stop_texts={"certificate_expired": ("残疾人证已过有效期", "因残疾人证已过有效期，", "换领新证后可重新申请")},
                  change_texts={"certificate_expired": "残疾人证有效期至{value},自{month}起停止发放{src}"})
