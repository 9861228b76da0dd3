"""城乡低保 (minimum living guarantee): household income per person below the local standard, assets within limits.

Started by a citizen (members pre-filled from the household registry; the citizen declares only what the state
cannot know) or proposed when economic data suggests eligibility. Process: automatic economic check
(家庭经济状况核对) → home visit by the street's staff → street review → public notice (公示, 7 days) → county
approval. Each step has a statutory time limit in working days. Figures are *illustrative* and dated.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from flows.dates import month_from_index, month_index, zh_date
from flows.economic_kinds import ASSET_KINDS as ASSET_KINDS  # re-exported: its casework reads them here
from flows.economic_kinds import INCOME_KINDS, KIND_NAMES
from flows.money import yuan
from flows.params import Dated
from flows.programs.base import Condition, Decision, FormField, ParamSpec, Step, zero_trip_program

CODE = "dibao"
REGISTRY = "population_registry"
DECLARED = "citizen_declaration"
SOURCE_NAMES = {
    REGISTRY: "公安人口库", DECLARED: "本人申报", "tax": "税务部门", "social_security": "人社部门",
    "real_estate": "不动产登记", "vehicles": "公安交管", "market_regulation": "市场监管",
    "bank": "银行存款核对", "rule": "政策规则",
}

PARAMETERS = {
    "start_date": date(2026, 1, 1),
    # monthly standard per person, in fen
    "standard": Dated.of(("2026-01-01", 80000)),
    "income_months": Dated.of(("2026-01-01", 6)),
    "deposit_months": Dated.of(("2026-01-01", 24)),  # deposits per person ≤ 24 × the standard
    "max_real_estate": Dated.of(("2026-01-01", 1)),
    "max_vehicles": Dated.of(("2026-01-01", 0)),
    "max_companies": Dated.of(("2026-01-01", 0)),
    "notice_days": Dated.of(("2026-01-01", 7)),
    # the time limit of the whole case, in working days from 受理, extendable once (with a reason) to the second
    # figure; whether the 公示 days count toward it (民发〔2021〕57号 leaves it to the province: here they do not)
    "case_limit_days": Dated.of(("2026-01-01", 30)),
    "case_limit_extended_days": Dated.of(("2026-01-01", 45)),
    "notice_days_count": Dated.of(("2026-01-01", 0)),
}

REJECTION_REASONS = {
    "income_above_standard": "家庭月人均收入高于本市低保标准",
    "deposits_above_limit": "家庭人均存款及金融资产超过规定",
    "real_estate_above_limit": "家庭名下房产超过规定",
    "vehicle_owned": "家庭成员名下有机动车",
    "company_registered": "家庭成员有工商注册企业",
    "hukou_not_local": "申请人户籍不在本市",
    "deceased": "申请人已去世",
    "home_visit_mismatch": "入户调查情况与申报不符",
    "objection_upheld": "公示期间异议经核实成立",
    "county_rejected": "县级民政部门审批未通过",
}

GUIDE = {
    "name": "城乡最低生活保障",
    "summary": "家庭月人均收入低于本市低保标准、家庭财产符合规定的本市户籍家庭,可申请低保。家庭成员由户籍信息预填,"
               "收入和财产由部门数据自动核对,您只需申报部门无法掌握的情况。",
    "conditions": ["申请人具有本市户籍", "家庭月人均收入低于本市低保标准({标准})",
                   "家庭人均存款不超过{deposit_months}个月低保标准", "家庭名下房产不超过{max_real_estate}套",
                   "家庭成员名下无机动车、无工商注册企业"],
    "materials": ["无需提交证明材料;如有部门数据无法反映的收入(如零工收入、赡养费),请如实申报"],
    "process": ["在线申请(家庭成员自动预填)", "家庭经济状况自动核对", "街道工作人员入户调查", "街道审核",
                "公示{notice_days}天(接受异议)", "区县民政部门审批", "审批通过后次月起按月发放"],
    "time_limit": "各环节按法定工作日时限办理,全程一般不超过{case_limit_days}个工作日",
    "legal_basis": "《社会救助暂行办法》、《最低生活保障审核确认办法》(民发〔2021〕57号)",
    "trip_level": "零跑动(入户调查由工作人员上门)",
    "place": "线上申请,街道(乡镇)办理",
    "phone": "12345",
}

HOME_VISIT_CHECKLIST = ("居住情况与申报一致", "家庭成员与户籍一致", "无高档消费品", "收入情况与申报一致",
                        "申请人已知悉诚信承诺")

STEPS = (
    Step("apply", "在线申请或系统主动发现", "citizen"),
    Step("checking", "家庭经济状况自动核对", "system", working_days=5),
    Step("home_visit", "街道工作人员入户调查", "street", working_days=10),
    Step("reviewing", "街道审核", "street", working_days=5),
    Step("public_notice", "公示(7天)", "street", working_days=0),
    Step("approving", "区县民政部门审批", "county", working_days=10),
    Step("pay", "次月起按月发放", "system"),
)


@dataclass(frozen=True)
class Item:
    """One economic record as the check sees it."""

    kind: str
    period: str
    amount_fen: int
    quantity: int
    source: str
    source_date: date


@dataclass(frozen=True)
class Member:
    resident_id: int
    masked_name: str
    relation: str
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Facts:
    """A household: who is in it (from the registry) and what the partners and the applicant say."""

    members: tuple[Member, ...]
    hukou_local: bool
    alive: bool
    source_date: date
    declared_monthly_income_fen: int = 0
    declared_note: str = ""
    extra: dict = field(default_factory=dict)


def window(as_of: date) -> tuple[str, ...]:
    """The complete months looked at: the N months before the month of `as_of`."""
    n = PARAMETERS["income_months"].at(max(as_of, PARAMETERS["start_date"]))
    current = as_of.year * 12 + as_of.month - 1
    return tuple(month_from_index(i) for i in range(current - n, current))


def _src(items: list[Item], fallback: str) -> tuple[str, str, str]:
    """(source codes, latest source date, citizen text 来源:…,date)."""
    if not items:
        return fallback, "", f"来源:{SOURCE_NAMES.get(fallback, fallback)}"
    sources = sorted({i.source for i in items})
    latest = max(i.source_date for i in items).isoformat()
    names = "、".join(SOURCE_NAMES.get(s, s) for s in sources)
    return ",".join(sources), latest, f"来源:{names},{latest}"


def household_income(facts: Facts, as_of: date) -> tuple[int, list[Item]]:
    """Average monthly household income over the window, in fen (registry records + declaration)."""
    months = set(window(as_of))
    items = [i for m in facts.members for i in m.items if i.kind in INCOME_KINDS and i.period in months]
    total = sum(i.amount_fen for i in items)
    return total // max(len(months), 1) + facts.declared_monthly_income_fen, items


def decide(facts: Facts, as_of: date, amounts_on: date | None = None) -> Decision:
    """The rule on the household's facts as of `as_of` (its income window), with the standard and limits in
    force on `amounts_on` (default `as_of`): a case re-priced later keeps the facts of its last decision."""
    on = max(amounts_on or as_of, PARAMETERS["start_date"])
    n = max(len(facts.members), 1)
    standard = PARAMETERS["standard"].at(on)
    income, income_items = household_income(facts, as_of)
    per_capita = income // n
    all_items = [i for m in facts.members for i in m.items]

    def assets(kind):
        return [i for i in all_items if i.kind == kind]

    deposits = assets("deposit")
    deposit_total = sum(i.amount_fen for i in deposits)
    deposit_limit = standard * PARAMETERS["deposit_months"].at(on)
    homes = sum(i.quantity for i in assets("real_estate"))
    cars = sum(i.quantity for i in assets("vehicle"))
    firms = sum(i.quantity for i in assets("company"))
    months = window(as_of)
    src, sdate, zh = _src(income_items, "tax")
    declared = f",含本人申报{yuan(facts.declared_monthly_income_fen)}元/月" if facts.declared_monthly_income_fen else ""
    conditions = [
        Condition("income_per_capita", per_capita < standard, yuan(per_capita), src, sdate,
                  f"您家共{n}人,{months[0]}至{months[-1]}家庭月人均收入{yuan(per_capita)}元{declared},"
                  f"{'低于' if per_capita < standard else '不低于'}本市低保标准{yuan(standard)}元({zh})"),
    ]
    src, sdate, zh = _src(deposits, "bank")
    conditions.append(Condition(
        "deposits", deposit_total // n <= deposit_limit, yuan(deposit_total // n), src, sdate,
        f"家庭人均存款及金融资产{yuan(deposit_total // n)}元,"
        f"{'未超过' if deposit_total // n <= deposit_limit else '超过'}规定上限{yuan(deposit_limit)}元({zh})"))
    for code, kind, count, limit, unit in (
        ("real_estate", "real_estate", homes, PARAMETERS["max_real_estate"].at(on), "套"),
        ("vehicles", "vehicle", cars, PARAMETERS["max_vehicles"].at(on), "辆"),
        ("companies", "company", firms, PARAMETERS["max_companies"].at(on), "家"),
    ):
        src, sdate, zh = _src(assets(kind), {"real_estate": "real_estate", "vehicle": "vehicles",
                                              "company": "market_regulation"}[kind])
        what = KIND_NAMES[kind]
        text = (f"家庭名下无{what}({zh})" if count == 0
                else f"家庭名下有{what}{count}{unit},{'符合' if count <= limit else '超过'}规定(最多{limit}{unit})({zh})")
        conditions.append(Condition(code, count <= limit, str(count), src, sdate, text))
    reg = f"来源:{SOURCE_NAMES[REGISTRY]},{facts.source_date.isoformat()}"
    conditions.append(Condition("hukou_local", facts.hukou_local, str(facts.hukou_local).lower(), REGISTRY,
                                facts.source_date.isoformat(),
                                f"您的户籍在本市({reg})" if facts.hukou_local else f"您的户籍不在本市({reg})"))
    conditions.append(Condition("alive", facts.alive, str(facts.alive).lower(), REGISTRY, facts.source_date.isoformat(),
                                f"人口库登记为健在({reg})" if facts.alive else f"人口库登记已去世({reg})"))
    if not all(c.passed for c in conditions):
        return Decision(False, tuple(conditions))
    gap = standard * n - income
    amount = -(-gap // 100) * 100  # whole yuan, rounded up in the household's favour
    return Decision(True, tuple(conditions), tier=f"{n}p", monthly_amount_fen=amount,
                    start_month=month_from_index(as_of.year * 12 + as_of.month))


def rejection_code(decision: Decision) -> str:
    first = next((c.code for c in decision.conditions if not c.passed), "")
    return {"income_per_capita": "income_above_standard", "deposits": "deposits_above_limit",
            "real_estate": "real_estate_above_limit", "vehicles": "vehicle_owned", "companies": "company_registered",
            "hukou_local": "hukou_not_local", "alive": "deceased"}.get(first, "county_rejected")


def notice_text(masked_name: str, amount_fen: int, ends_on: date) -> str:
    return f"{masked_name}家庭拟纳入城乡低保,月保障金{yuan(amount_fen)}元,公示至{zh_date(ends_on)}"


def month_index_of(d: date) -> int:
    return month_index(f"{d:%Y-%m}")


PARAMETER_SPECS = {
    "standard": ParamSpec("yuan", 10_000, 1_000_000, "低保标准(元/人/月)"),
    "notice_days": ParamSpec("int", 7, 30, "公示天数"),
    "case_limit_days": ParamSpec("int", 10, 60, "办理时限(工作日)"),
    "case_limit_extended_days": ParamSpec("int", 15, 90, "延长后的办理时限(工作日)"),
    "notice_days_count": ParamSpec("int", 0, 1, "公示期是否计入办理时限(1计入,0不计入)"),
}


def guide_amounts(on: date) -> dict:
    fen = PARAMETERS["standard"].at(max(on, PARAMETERS["start_date"]))
    return {"标准": f"{fen // 100}.{fen % 100:02d}元/人/月", "补差": "按家庭人数×标准−家庭月收入计发"}


def household_facts(alive, records, holder, application, mask) -> Facts:
    """The facts of the case's last decision minus the members who died: the living members with their own
    economic records, the declared income of the application."""
    by_member: dict[int, list] = {m.id: [] for m in alive}
    for r in records:
        if r.resident_id in by_member:
            by_member[r.resident_id].append(Item(r.kind, r.period, r.amount_fen, r.quantity, r.source, r.source_date))
    declared = ((application.prefill or {}).get("declared_monthly_income", {}).get("value") or "0") \
        if application is not None else "0"
    return Facts(members=tuple(Member(m.id, mask(m.name), m.relation_to_head, tuple(by_member[m.id])) for m in alive),
                 hukou_local=bool(holder.hukou_local), alive=True, source_date=holder.source_date,
                 declared_monthly_income_fen=int(round(float(declared) * 100)))


# The citizen-started application (`/m/` renders it): only what the state cannot know.
APPLY_FORM = (
    FormField("monthly_income", "amount", "全家每月收入合计(元)", max_length=12, default="0.00"),
    FormField("income_note", "text", "收入说明(例如打零工、亲友资助)", max_length=500, rows=3),
    FormField("reason", "text", "申请原因", max_length=500, rows=3),
)
APPLY_TEXTS = {
    "title": "申请最低生活保障(低保)",
    "lead": "只需要填写政府部门查不到的信息。户籍、社保、房产、车辆等信息由我们查询,不用您提供。",
    "button": "提交申请",
    "done": "已提交。工作人员会入户核实,结果会通过消息通知您。",
    "menu": "申请低保",
}


PROGRAM = zero_trip_program(CODE, "城乡最低生活保障", "低保", PARAMETERS, GUIDE, decide, STEPS,
                            order=40, needs_review=True, time_limit_days=30, public_notice=True,
                            parameter_specs=PARAMETER_SPECS, guide_amounts=guide_amounts,
                            household_facts=household_facts)
# 低保 start/stop/suspension/resumption are published to departments subscribed for a registered legal basis (医保
# 参保资助, 教育资助 …; docs/exchange.md "Subscriptions"): the bureau's own fact, never the reason behind it.
PROGRAM = replace(PROGRAM, published_events=("start", "stop", "suspend", "resume"),
                  step_actions={"reviewing": {"path": "street-review", "reasons": REJECTION_REASONS},
                                "approving": {"path": "county-decision", "reasons": REJECTION_REASONS}},
                  reopen="flows.programs.dibao.cases:reopen_after_appeal",  # back to the step that refused
                  scan="flows.programs.dibao.scan:scan", message_name_text="城乡低保",
                  exchange="flows.programs.dibao.exchange", simulation="flows.programs.dibao.simulation",
                  casework="flows.programs.dibao.cases", apply="flows.programs.dibao.cases:apply_from_form",
                  apply_form=APPLY_FORM, apply_texts=APPLY_TEXTS, api_alias=CODE,
                  api_alias_fields={"declared_monthly_income": "monthly_income", "declared_note": "income_note"}, confirm="flows.programs.dibao.cases:confirm",
                  facts="flows.programs.dibao.cases:facts_for", home_visit_checklist=HOME_VISIT_CHECKLIST,
                  waiting_steps={"home_visit": "home_visit", "reviewing": "reviewing",
                                 "public_notice": "public_notice", "approving": "approving"},
                  sources={"dibao_registry": "低保对象数据库"}, field_labels={"dibao_household": "低保家庭", "household_members": "家庭成员", "household_size": "家庭人数",
                                "proposal_income_per_capita": "部门数据家庭月人均收入(元)",
                                "proposal_standard": "本市低保标准(元/人/月)", "declared_monthly_income": "申报月收入(元)",
                                "declared_note": "申报说明"}, sweep="flows.programs.dibao.cases:sweep")
# 动态管理: new income data of a member re-checks the case (flows.lifecycle.income): a new amount (增发/减发) or the
# end (停发) waits for the street's review and a second person's approval, from the next month. Its words: the
# re-priced case (trace and message: {value} is the household's monthly income per person of the re-check), and
# the stop (letter grounds come from the failed conditions of the trace).
PROGRAM = replace(PROGRAM, income_change="recheck",
                  change_texts={"income_change": "经复核,家庭月人均收入{value}元,自{month}起每月保障金{amount}元{src}",
                                "income_change_stop": "经复核,家庭情况已不符合低保条件,自{month}起停止发放{src}"},
                  stop_texts={"income_change_stop": ("经复核已不符合低保条件", "经复核，您家庭的收入状况已不符合低保条件，",
                                                     "情况变化后可重新申请")})
