"""The resident feed (`GET /api/v1/me/activity`): who acted on or looked at my record, at what, why, when.

Built on the audit trail: every audit event that names a resident as its subject (`audit_subjects`: the
`on_behalf_of` resident, or each resident a list page showed) is in her feed. Nothing is written for the feed
itself, so anything that audits with a subject — proxies' and staff reads and actions today, the staff
workbench and other departments' queries later — shows up here without changes to this module (a new action
only needs a line in WHAT, and a staff purpose in PURPOSES, to read well).

Who: a proxy by her masked name as it was when she acted (stored with the event; for older events, from the
binding history; otherwise "已解除绑定的代办人"); staff by office and purpose, never by name.
"""

from __future__ import annotations

import re

from sqlalchemy import and_, or_, select

from app.db import utcnow
from app.masking import mask_name
from app.models import Account, AuditEvent, AuditSubject, IdentityBinding, Resident, StaffMember
from flows import areas, programs
from flows.dates import today_shanghai

ACTOR_KINDS = ("self", "proxy", "staff", "system", "department")
UNBOUND_PROXY = "已解除绑定的代办人"
UNKNOWN_ACTION = "办理了一项业务"

WHAT = {
    "application.view": "查看了申请",
    "application.list": "查看了申请列表",
    "application.confirm": "确认了申请",
    "application.decline": "放弃了申请",
    "application.reopen": "撤回了放弃",
    "benefit.list": "查看了待遇列表",
    "benefit.payments_view": "查看了发放记录",
    "benefit.proof_issue": "开具了补贴电子证明",
    "payout.account_view": "查看了收款账户",
    "payout.account_change": "变更了收款账户",
    "rating.create": "评价了服务",
    "proxy.grant_view": "查看了代办授权",
    "proxy.grant_confirm": "确认了代办授权",
    "proxy.grant_decline": "拒绝了代办申请",
    "proxy.grant_revoke": "撤销了代办授权",
    "proxy.invitation_accept": "接受了代办邀请",
    "identity.bind": "完成了实名绑定",
    "identity.unbind": "解除了实名绑定",
    "staff.application_view": "查看了申请",
    "staff.case_queue": "在审核列表中查看了您的申请",
    "staff.task_list": "在工作队列中查看了您的事项",
    "staff.inbox": "在工作台待办列表中查看了您的事项",
    "staff.overdue_list": "在超期督办列表中查看了您的申请",
    "staff.task_view": "查看了待办事项",
    "staff.task_decide": "处理了待办事项",
    "staff.resident_lookup": "查询了您的户籍信息",
    "staff.proxy_grant_view": "查看了代办授权",
    "staff.proxy_grant_record": "登记了代办授权",
    "staff.proxy_grant_approve": "复核了代办授权",
    "staff.proxy_grant_revoke": "终止了代办授权",
    "staff.case_review": "审核了申请",
    "staff.case_approve": "审批了申请",
    "staff.home_visit": "记录了入户调查",
    "staff.street_review": "完成了街道审核",
    "staff.county_decision": "作出了县级审批",
    "staff.objection_decide": "处理了公示异议",
    "staff.home_help": "上门协助办理",
    "exchange.search": "查询了您的待遇信息",
    "exchange.notify": "获知了您的待遇变动",
    "resident.department_lookups": "查看了部门查询记录",
    "staff.death_correction_propose": "提出更正死亡登记",
    "staff.death_correction_approve": "复核并更正了死亡登记",
    "staff.visit_file_upload": "上传了入户调查照片或签名",
    "staff.visit_file_view": "查看了入户调查照片或签名",
    "staff.case_extend": "延长了办理时限",
    "appeal.file": "提出了复核申请",
    "appeal.withdraw": "撤回了复核申请",
    "appeal.view": "查看了复核申请",
    "appeal.list": "查看了复核申请列表",
    "staff.appeal_record": "在窗口代为登记了复核申请",
    "counter.confirm": "在窗口经您同意代为确认了申请",
    "counter.apply": "在窗口经您同意代为提交了申请",
    "counter.appeal": "在窗口经您同意代为提交了复核申请",
    "staff.appeal_view": "查看了复核申请",
    "staff.appeal_decision": "作出了复核决定",
    "staff.case_view": "查看了您的申请案件",
    "staff.decision_letter": "查看并打印了决定书",
    "staff.resident_reveal": "查看了您的完整身份证号或电话",
    "staff.resident_search": "在查找居民时查到了您",
    "staff.objection_view": "查看了对您公示的异议",
    "staff.task_claim": "认领了您的待办事项",
    "staff.task_release": "把您的待办事项退回任务池",
    "staff.task_reassign": "改派了您的待办事项",
    "staff.letter_sent": "登记了决定书已送达",
    "staff.stop_letter": "查看并打印了停发决定书",
    "staff.benefit_recheck": "复查了您的待遇",
    "staff.notice_list": "在公示管理列表中查看了您的公示",
    "staff.notice_sheet": "打印了含有您的公示名单",
}
# A look at one field says which (staff.resident_reveal: details["field"]).
REVEALED = {"id_number": "查看了您的完整身份证号", "phone": "查看了您的完整电话号码"}
# Why a staff member looked or acted (code, text). A look-up states its own purpose.
PURPOSES = {
    "staff.application_view": ("case_review", "审核办理申请"),
    "staff.case_queue": ("case_review", "审核办理申请"),
    "staff.case_review": ("case_review", "审核办理申请"),
    "staff.case_approve": ("case_review", "审核办理申请"),
    "staff.home_visit": ("case_review", "审核办理申请"),
    "staff.street_review": ("case_review", "审核办理申请"),
    "staff.county_decision": ("case_review", "审核办理申请"),
    "staff.task_list": ("casework", "处理待办事项"),
    "staff.task_view": ("casework", "处理待办事项"),
    "staff.task_decide": ("casework", "处理待办事项"),
    "staff.overdue_list": ("deadline_supervision", "督办超期事项"),
    "staff.home_help": ("home_help", "上门协助办理"),
    "staff.objection_decide": ("objection", "处理公示异议"),
    "staff.visit_file_upload": ("home_visit", "入户调查"),
    "staff.visit_file_view": ("home_visit", "入户调查"),
    "staff.case_extend": ("case_review", "审核办理申请"),
    "staff.appeal_record": ("appeal", "办理复核申请"),
    "counter.confirm": ("office_visit", "窗口帮办"),
    "counter.apply": ("office_visit", "窗口帮办"),
    "counter.appeal": ("office_visit", "窗口帮办"),
    "staff.appeal_view": ("appeal", "办理复核申请"),
    "staff.appeal_decision": ("appeal", "办理复核申请"),
    "staff.proxy_grant_view": ("proxy_grant", "办理亲情代办授权"),
    "staff.proxy_grant_record": ("proxy_grant", "办理亲情代办授权"),
    "staff.proxy_grant_approve": ("proxy_grant", "办理亲情代办授权"),
    "staff.proxy_grant_revoke": ("proxy_grant", "办理亲情代办授权"),
    "benefit.proof_issue": ("benefit_proof", "打印补贴电子证明"),
    "staff.case_view": ("case_review", "审核办理申请"),
    "staff.decision_letter": ("decision_letter", "送达决定书"),
    "staff.objection_view": ("objection", "处理公示异议"),
    "staff.task_claim": ("casework", "处理待办事项"),
    "staff.task_release": ("casework", "处理待办事项"),
    "staff.task_reassign": ("deadline_supervision", "督办超期事项"),
    "staff.letter_sent": ("decision_letter", "送达决定书"),
    "staff.stop_letter": ("decision_letter", "送达决定书"),
    "staff.benefit_recheck": ("benefit_recheck", "复查待遇"),
    "staff.notice_list": ("public_notice", "办理公示"),
    "staff.notice_sheet": ("public_notice", "办理公示"),
}
# Purposes a staff member states herself (a look-up, a search of the registry, a reveal of a full ID number or
# phone on the case page): the feed says the one she stated.
LOOKUP_PURPOSES = {"guardianship_grant": "办理监护代办授权", "identity_verification": "核实身份",
                   "data_correction": "更正数据", "casework": "办理业务", "office_visit": "窗口帮办",
                   "home_visit": "入户调查", "application_review": "审核办理申请", "complaint": "处理投诉",
                   "decision_letter": "送达决定书"}
STATED_PURPOSE = ("staff.resident_lookup", "staff.resident_search", "staff.resident_reveal")
PROXY_PURPOSE = ("proxy", "亲情代办")


def office_code_of(staff) -> str:
    """The code of the office a staff member works for: the most local level of her jurisdiction."""
    return staff.community_code or staff.street_code or staff.district_code


def office_of(staff, session=None) -> str:
    """The office a staff member works for (never her name), by its area's name when `session` is given and one
    is known (和平街道办事处), else by kind and code (街道办事处 140105001)."""
    code = office_code_of(staff)
    return areas.office_label(code, _area_name(session, code) if session is not None else None)


_CODED_OFFICE = re.compile(r"^(?:社区居委会|街道办事处|区民政局) ([0-9]{6}|[0-9]{9}|[0-9]{12})\Z")


def _area_name(session, code: str) -> str | None:
    """The area's name today, remembered for the rest of the session's unit of work (a feed page asks often)."""
    cache = session.info.setdefault("activity.area_names", {})
    if code not in cache:
        cache[code] = areas.names(session, [code], today_shanghai()).get(code)
    return cache[code]


def _named_office(session, office: str | None, code: str | None) -> tuple[str | None, str | None]:
    """(office as people read it, its code): an office stored by code (events written before its area had a
    name) is given the name known now."""
    match = _CODED_OFFICE.match(office or "")
    if match:
        code = code or match.group(1)
        name = _area_name(session, code)
        if name:
            office = areas.office_label(code, name)
    return office, code


def feed_query(resident_id: int, actor_kinds: tuple[str, ...] | None = None):
    """Events with `resident_id` as a subject, newest first (a select of (event, actor_kind) for page_of)."""
    query = (select(AuditEvent, AuditSubject.actor_kind)
             .join(AuditSubject, and_(AuditSubject.seq == AuditEvent.seq, AuditSubject.resident_id == resident_id))
             .where(or_(AuditSubject.visible_at.is_(None), AuditSubject.visible_at <= utcnow())))
    if actor_kinds:
        query = query.where(AuditSubject.actor_kind.in_(actor_kinds))
    return query.order_by(AuditEvent.seq.desc())


def proxy_name_at(session, account_id: str, event: AuditEvent) -> str:
    """The proxy's masked name as bound when she acted: stored with the event, else the binding history."""
    stored = (event.details or {}).get("actor_name")
    return stored or name_bound_at(session, account_id, event.ts)


def name_bound_at(session, account_id: str, at) -> str:
    """The masked name of the resident bound to `account_id` at time `at` (binding history), or
    "已解除绑定的代办人"."""
    history = session.execute(
        select(IdentityBinding.resident_id, IdentityBinding.bound_at, IdentityBinding.unbound_at)
        .where(IdentityBinding.account_id == account_id)).all()
    for resident_id, bound_at, unbound_at in history:
        if bound_at <= at and (unbound_at is None or unbound_at > at):
            resident = session.get(Resident, resident_id)
            return mask_name(resident.name) if resident else UNBOUND_PROXY
    if not history:  # bound before the history was kept and never unbound since
        account = session.get(Account, account_id)
        resident = session.get(Resident, account.resident_id) if account and account.resident_id else None
        if resident is not None:
            return mask_name(resident.name)
    return UNBOUND_PROXY


def entry(session, event: AuditEvent, actor_kind: str, resident_id: int) -> dict:
    details = event.details or {}
    kind, _, ref = event.actor.partition(":")
    office, office_code, purpose = None, None, None
    if actor_kind == "staff":
        office, office_code = details.get("office"), details.get("office_code")
        if not office:  # events written before the office was stored with them
            staff = session.get(StaffMember, ref) if kind == "staff" else None
            office = office_of(staff) if staff else "民政部门"
            office_code = office_code_of(staff) if staff else None
        office, office_code = _named_office(session, office, office_code)
        name = office
        if event.action in STATED_PURPOSE and details.get("purpose"):
            code = str(details["purpose"])
            purpose = (code, LOOKUP_PURPOSES.get(code, "办理业务"))
        else:
            purpose = PURPOSES.get(action_of(event), ("casework", "办理业务"))
    elif actor_kind == "proxy":
        name = proxy_name_at(session, ref, event) if kind == "account" else UNBOUND_PROXY
        purpose = PROXY_PURPOSE
    elif actor_kind == "department":
        name = office = details.get("department") or "其他部门"
        purpose = (details.get("purpose"), details.get("purpose_text"))
        told = (details.get("told") or {}).get(str(resident_id))
        if told is not None and event.action == "exchange.notify":  # a subscription (flows.exchange.subscriptions)
            return {**_base(event, actor_kind, name, office, purpose),
                    "what": f"获知了您的{told.get('program') or '待遇'}{NOTIFIED_EVENTS.get(told.get('event'), '变动')}"
                            + (f"（{told['month']}起）" if told.get("month") else "")}
        if told is not None:
            return {**_base(event, actor_kind, name, office, purpose),
                    "what": f"查询了{_asked(details.get('dataset'))}，答复：" + told_text(told)}
    elif actor_kind == "self":
        name = "本人"
    else:
        name = "系统"
    if actor_kind == "department":
        return _base(event, actor_kind, name, office, purpose)
    own = event.on_behalf_of == f"resident:{resident_id}" or actor_kind == "self"
    kind, _, object_id = (event.object_ref or "").partition(":")
    if kind == "resident":  # a row number, not an id to show: she is the resident
        object_id = ""
    object_id = object_id or None
    ids = [str(i) for i in details.get("ids") or details.get("applications") or []] if own else []
    text = what(event)
    if not own and (event.on_behalf_of or "").startswith("resident:") and details.get("household"):
        text += "（您家庭成员的案件，其中有您的信息）"  # a case of her household shows her too (staff.case_view)
    return {"at": event.ts, "action": event.action, "what": text, "result": event.result,
            "actor_kind": actor_kind, "actor_name": name, "office": office,
            "office_code": office_code,
            "purpose": purpose[0] if purpose else None, "purpose_text": purpose[1] if purpose else None,
            "object_id": object_id if own else None, "object_ids": ids}


def action_of(event: AuditEvent) -> str:
    """The event's action as it is named today: events written before a program's staff steps got generic names
    carried the program's code (staff.<code>_home_visit → staff.home_visit)."""
    staff, dot, rest = event.action.partition(".")
    if staff == "staff" and dot:
        for known in programs.PROGRAMS:
            if rest.startswith(known + "_"):
                return f"staff.{rest[len(known) + 1:]}"
    return event.action


def what(event: AuditEvent) -> str:
    """The event in words (WHAT; a reveal says which field; an action without words says so, not its code)."""
    if event.action == "staff.resident_reveal":
        field = (event.details or {}).get("field")
        if field in REVEALED:
            return REVEALED[field]
    return WHAT.get(action_of(event)) or UNKNOWN_ACTION


# Other departments' queries through the exchange (flows.exchange.search): what was asked and what it was told.
def _asked(dataset: str | None) -> str:
    """What a department asked about, as the resident reads it (the answer's own declaration, Answer.asked)."""
    from flows.exchange.datasets import ANSWERS

    answer = ANSWERS.get(dataset or "")
    return answer.asked if answer and answer.asked else "您的待遇信息"


_TOLD = {"receiving": lambda v: "享受" if v else "未享受", "since": lambda v: f"自{v}起" if v else "",
         "band": lambda v: f"档次{v}" if v else ""}


NOTIFIED_EVENTS = {"start": "开始发放", "stop": "停止发放", "suspend": "暂停发放", "resume": "恢复发放"}


def told_text(told: dict) -> str:
    parts = [_TOLD[k](v) if k in _TOLD else f"{k}={v}" for k, v in told.items()]
    return "，".join(p for p in parts if p) or "无"


def _base(event: AuditEvent, actor_kind: str, name: str, office, purpose) -> dict:
    return {"at": event.ts, "action": event.action, "what": what(event),
            "result": event.result, "actor_kind": actor_kind, "actor_name": name, "office": office,
            "office_code": None,
            "purpose": purpose[0] if purpose else None, "purpose_text": purpose[1] if purpose else None,
            "object_id": None, "object_ids": []}
