"""Message kinds → content: the in-app text, the WeChat subscribe-message data, the SMS text.

The WeChat template registry (ids, one-time or long-term, keyword keys) is settings data in
`wechat_templates.json`; an id can be overridden with the environment variable `WECHAT_TEMPLATE_<KIND>`
(e.g. `WECHAT_TEMPLATE_PROPOSAL_READY`). Content is built at send time from the database (the scan
inserts bare outbox rows), plus the row's `data`.

Every WeChat value is fitted to its keyword type before sending (design/wechat-api.md §3.1): `thing`
is cut to 20 characters ending with "…", dates and times use `2026年11月27日 09:30`, amounts `50.00元`.
A value that still breaks its type's rule, or that looks like an ID number or a bank-card number, is
never sent: the message's `problems` names the keyword and the WeChat channel is skipped.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.idnumbers import ID_PATTERN
from app.masking import mask_name
from app.models import Application, Benefit, Resident, StaffTask
from notifications import occasions

REGISTRY_PATH = Path(__file__).with_name("wechat_templates.json")
ONE_TIME, LONG_TERM = 2, 3
TZ = ZoneInfo("Asia/Shanghai")



class _ProgramNames(Mapping):
    """code → the program's name in messages (Program.message_name), read from the registry when first asked."""

    def __getitem__(self, code: str) -> str:
        from flows.programs import PROGRAMS  # pure declarations (see the import contract's ignore)

        return PROGRAMS[code].message_name

    def __iter__(self):
        from flows.programs import PROGRAMS

        return iter(PROGRAMS)

    def __len__(self) -> int:
        from flows.programs import PROGRAMS

        return len(PROGRAMS)


PROGRAM_NAMES = _ProgramNames()
KIND_TITLES = {
    "proposal_ready": "待确认申请提醒",
    "reminder": "待办事项提醒",
    "approved": "审批通过通知",
    "rejected": "审批未通过通知",
    "tier_raised": "补贴标准调整通知",
    "payment_started": "待遇发放通知",
    "benefit_stopped": "待遇停发通知",
    "proxy_invitation": "亲情代办邀请通知",
    "home_visit_scheduled": "入户调查预约通知",
    "identity_bind_attempt": "账号绑定提醒",
    # Kinds without a WeChat template: SMS (if a phone is on file) and the inbox.
    "proxy_granted": "新增亲情代办人通知",
    "proxy_request": "亲情代办申请待确认",
    "proxy_restored": "亲情代办人恢复代办通知",
    "benefit_resumed": "待遇恢复发放通知",
    "payout_account_changed": "收款账户变更通知",
    "after_death": "身后一件事告知",
    "one_off_paid": "补贴发放通知",
    "appeal_update": "复核进度通知",
    "case_extended": "办理时限延长通知",
    "objection_handled": "公示异议处理通知",
    "certificate_expiring": "证件到期提醒",
}
# Kinds that ignore quiet hours: a security alert must not wait for the morning, and the answer to the
# citizen's own tap (confirm → approved / rejected) is expected at once — she is awake, she just used the app.
# Everything the system starts on its own (proposals, reminders, tier raises, stops) waits for 08:00.
URGENT_KINDS = frozenset({"identity_bind_attempt", "approved", "rejected"})
# Kinds about the resident's own proxies: they reach her alone (no copy to proxies, never delegated to them),
# since they are how she notices a proxy she did not want.
# A payout-account change (possibly made by a proxy) is told to the resident herself for the same reason.
SELF_ONLY_KINDS = frozenset({"proxy_granted", "proxy_request", "proxy_restored", "identity_bind_attempt",
                             "payout_account_changed"})
APP_NAME = "民政零跑"
HOTLINE = "12345"  # 政务服务便民热线 (flows.programs GUIDE["phone"])
# flows.lifecycle.jobs.HOME_HELP_DAY: the day of an unanswered proposal when a community worker is sent
# (notifications may not import flows; tests/notifications/test_notif_kinds.py keeps the two equal).
HOME_HELP_DAY = 14
# The remedies against a rejection or a stop (行政复议法 第二十条, 行政诉讼法 第四十六条), named in every such message
# and in the decision in writing (flows.letters, the workbench's 决定书): one place for the words and the numbers.
REVIEW_DAYS = 60  # 行政复议: within 60 days of receiving the decision
LAWSUIT_MONTHS = 6  # 行政诉讼: within 6 months
REMEDIES = (f"如不服本决定，可自收到之日起{REVIEW_DAYS}日内依法申请行政复议，"
            f"或在{LAWSUIT_MONTHS}个月内向人民法院提起行政诉讼。")


@dataclass(frozen=True)
class Template:
    kind: str
    id: str
    type: int
    title: str
    keywords: tuple[tuple[str, str], ...]  # (key, display name)

    @property
    def long_term(self) -> bool:
        return self.type == LONG_TERM


@lru_cache(maxsize=4)
def _registry(path: str, overrides: tuple) -> dict[str, Template]:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    env = dict(overrides)
    out = {}
    for t in raw["templates"]:
        tid = env.get("WECHAT_TEMPLATE_" + t["kind"].upper()) or t["id"]
        out[t["kind"]] = Template(t["kind"], tid, int(t["type"]), t["title"],
                                  tuple((k["key"], k["name"]) for k in t["keywords"]))
    return out


def registry() -> dict[str, Template]:
    """kind → Template (only kinds with a WeChat template)."""
    overrides = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("WECHAT_TEMPLATE_") and v))
    return _registry(str(REGISTRY_PATH), overrides)


def template_for(kind: str) -> Template | None:
    return registry().get(kind)


def template_by_id(template_id: str) -> Template | None:
    return next((t for t in registry().values() if t.id == template_id), None)


# -- value rules (our own reading of §3.1; the mock applies its own) --------------------------------------

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RE = re.compile(f"[{_HAN}]")
_TIME = r"([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?"
_DATE = r"[0-9]{4}年(0?[1-9]|1[0-2])月((0?[1-9]|[12][0-9]|3[01])日)?|[0-9]{4}-(0?[1-9]|1[0-2])(-(0?[1-9]|[12][0-9]|3[01]))?"
_DATE_RE = re.compile(rf"({_DATE})( {_TIME})?", re.ASCII)
_TIME_RE = re.compile(rf"(({_DATE}) )?{_TIME}", re.ASCII)
_AMOUNT_RE = re.compile(r"[¥￥]?\d{1,10}(\.\d{1,2})?元?", re.ASCII)
_ANY_DIGIT = re.compile(r"\d")  # a name holds no digit of any script (detection, not parsing)
_LONG_DIGITS = re.compile(r"\d[\d ]{13,}\d")  # 15+ digits: ID numbers (old and new), bank cards
ELLIPSIS = "…"


def _key_type(key: str) -> str:
    m = re.fullmatch(r"(.*?)([0-9]+)", key)
    return m.group(1) if m else key


def _ranged(pattern: re.Pattern, text: str) -> bool:
    """One value, or a range `A~B` of two (WeChat's date/time rule)."""
    parts = [p.strip() for p in text.split("~")]
    return len(parts) <= 2 and all(pattern.fullmatch(p) for p in parts)


def _one_line(value: str) -> str:
    return " ".join(str(value).split())


def sensitive(value: str) -> bool:
    """An ID number or a bank-card-like digit run: never put in a message."""
    return bool(ID_PATTERN.search(value) or _LONG_DIGITS.search(value))


def fit(key: str, value) -> str | None:
    """The value as WeChat accepts it for keyword `key`, or None if it cannot be made valid."""
    if value is None:
        return None
    text = _one_line(value)
    if not text or not text.isprintable() or sensitive(text):
        return None
    kind = _key_type(key)
    if kind == "thing":
        return text if len(text) <= 20 else text[:19] + ELLIPSIS
    if kind == "amount":
        return text if _AMOUNT_RE.fullmatch(text) else None
    if kind == "date":
        return text if _ranged(_DATE_RE, text) else None
    if kind == "time":
        return text if _ranged(_TIME_RE, text) else None
    if kind == "phrase":
        return text if len(text) <= 5 and all(_HAN_RE.fullmatch(c) for c in text) else None
    if kind == "name":
        if _ANY_DIGIT.search(text):
            return None
        return text if len(text) <= (10 if _HAN_RE.search(text) else 20) else None
    if kind == "phone_number":
        ok = len(text) <= 17 and re.fullmatch(r"[0-9+()-]*[0-9][0-9+()-]*", text) is not None
        return text if ok else None
    if kind in ("number",):
        return text if re.fullmatch(r"[0-9]{1,32}(\.[0-9]+)?", text) and len(text) <= 32 else None
    if kind == "character_string":
        return text if len(text) <= 32 and not _HAN_RE.search(text) and " " not in text else None
    return text if len(text) <= 20 else None


# -- formatting helpers ----------------------------------------------------------------------------------

def local(dt: datetime) -> datetime:
    """A naive-UTC database time in Asia/Shanghai."""
    return dt.replace(tzinfo=UTC).astimezone(TZ)


def fmt_datetime(dt: datetime) -> str:
    d = local(dt)
    return f"{d.year}年{d.month}月{d.day}日 {d.hour:02d}:{d.minute:02d}"


def fmt_date(value) -> str | None:
    """'2026-12-01' / date / 'YYYY-MM' → '2026年12月1日' / '2026年12月'."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = local(value).date()
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    text = str(value).strip()
    m = re.fullmatch(r"([0-9]{4})-([0-9]{1,2})(?:-([0-9]{1,2}))?", text)
    if not m:
        return text
    y, mo, d = m.group(1), int(m.group(2)), m.group(3)
    return f"{y}年{mo}月{int(d)}日" if d else f"{y}年{mo}月"


def fmt_when(value) -> str | None:
    """An ISO local date-time text ('2026-12-01T10:00' or '2026-12-01 10:00') → '2026年12月1日 10:00'."""
    if not value:
        return None
    m = re.fullmatch(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[T ]([0-9]{1,2}):([0-9]{2}).*", str(value).strip())
    if not m:
        return str(value)
    y, mo, d, h, mi = m.groups()
    return f"{y}年{int(mo)}月{int(d)}日 {int(h):02d}:{mi}"


def fmt_amount(value) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).strip().removesuffix("元")
    return f"{text}元" if _AMOUNT_RE.fullmatch(text) else None


def program_name(code: str | None) -> str:
    return PROGRAM_NAMES.get(code or "", code or "民政服务")


# -- rendering -------------------------------------------------------------------------------------------

SCOPE_TEXT = {"view": "查看办理进度", "confirm": "确认申请", "decline": "放弃申请", "receive_messages": "代收消息",
              "payout": "变更收款账户", "manage_proxies": "管理代办人"}
# benefit_stopped reason → (WeChat 停发原因 ≤ 20, cause in the sentence, WeChat 温馨提示): the reasons of every
# program; a program's own reasons are its Program.stop_texts.
STOP_REASONS = {
    "death": ("家人离世，深表哀悼", "", "如有疑问请联系社区"),
    "moved_out": ("户籍迁出本市，暂停发放", "因户籍已迁出本市，", "迁回本市后可恢复发放"),
}


def _declared(code: str | None):
    from flows.programs import PROGRAMS  # pure declarations (see the import contract's ignore)

    return PROGRAMS.get(code or "")


def tier_text(code: str | None, tier: str | None) -> str | None:
    """A tier in words, as its program says it (Program.tier_texts), or None."""
    program = _declared(code)
    return (program.tier_texts or {}).get(tier or "") if program is not None else None
OTHER_STOP = ("享受条件发生变化", "因享受条件发生变化，", "如有异议请联系社区")
REVOKE_PATH = re.compile(r"/api/v1/proxies/grants/[A-Za-z0-9_-]{1,40}/revoke")
_HIDDEN = "（已隐去）"


@dataclass
class Message:
    kind: str
    title: str
    body: str
    wechat_data: dict = field(default_factory=dict)
    page: str | None = None
    template: Template | None = None
    problems: list[str] = field(default_factory=list)
    sms_text: str = ""
    action: dict | None = None  # a one-tap action shown with the inbox item (e.g. revoke a new proxy)

    @property
    def wechat_ok(self) -> bool:
        return self.template is not None and not self.problems


@dataclass
class _Ctx:
    session: Session
    row: object
    data: dict
    application: Application | None
    benefit: Benefit | None
    now: datetime
    subject: Resident | None = None  # the resident the message is about
    relation: str | None = None  # None: to the resident herself; "proxy": a proxy's copy; "family": a relative's

    @property
    def program_code(self) -> str | None:
        return self.data.get("program") or (self.application.program if self.application else None) or (
            self.benefit.program if self.benefit else None)

    @property
    def program(self) -> str:
        return self.data.get("program_name") or program_name(self.program_code)

    @property
    def deceased(self) -> bool:
        return self.subject is not None and self.subject.death_date is not None

    @property
    def name(self) -> str:
        return mask_name(self.subject.name) if self.subject is not None else ""

    @property
    def created(self) -> datetime:
        return getattr(self.row, "created_at", None) or self.now

    def amount(self) -> str | None:
        value = self.data.get("monthly_amount")
        if value is None and self.application is not None:
            item = (self.application.prefill or {}).get("monthly_amount")
            value = item.get("value") if isinstance(item, dict) else item
        fen = self.data.get("monthly_amount_fen")
        if value is None and isinstance(fen, int | str) and re.fullmatch("[0-9]+", str(fen)):
            value = f"{int(fen) // 100}.{int(fen) % 100:02d}"
        if value is None and self.benefit is not None:
            fen = self.benefit.monthly_amount_fen
            value = f"{fen // 100}.{fen % 100:02d}"
        return fmt_amount(value)

    def decided(self) -> str:
        at = self.application.decided_at if self.application and self.application.decided_at else self.now
        return fmt_datetime(at)


def _month_after(value) -> str | None:
    m = re.match(r"([0-9]{4})-([0-9]{1,2})", str(value or "").strip())
    if not m:
        return None
    y, mo = int(m.group(1)), int(m.group(2)) + 1
    return f"{y + (mo > 12)}-{(mo - 1) % 12 + 1:02d}"


def _day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _scopes(values) -> str:
    names = [SCOPE_TEXT[s] for s in (values or []) if s in SCOPE_TEXT and s != "view"]
    return "、".join(["查看办理进度", *names]) if values else "查看办理进度"


def _reminder_deadline(c: _Ctx) -> str | None:
    if c.data.get("deadline"):
        return fmt_date(c.data["deadline"])
    if c.application is not None and c.application.as_of is not None:
        return fmt_date(c.application.as_of + timedelta(days=HOME_HELP_DAY))
    return None


def _stop(c: _Ctx) -> tuple[tuple[str, str, str], str | None]:
    program = _declared(c.program_code)
    own = (program.stop_texts or {}) if program is not None else {}
    reason = own.get(c.data.get("reason") or "") or STOP_REASONS.get(c.data.get("reason") or "", OTHER_STOP)
    month = (c.data.get("effective_month") or _month_after(c.data.get("last_month"))
             or c.data.get("stop_date") or c.data.get("end_month"))
    return reason, fmt_date(month)


def _visit(c: _Ctx) -> tuple[str, str | None, str | None]:
    """(task kind, WeChat time value, window in words) of a home visit / home help."""
    from flows.programs import PROGRAMS  # pure declarations (see the import contract's ignore)

    program = PROGRAMS.get(c.program_code or "")
    visits = program is not None and any(s.code == "home_visit" for s in program.steps)
    kind = "home_visit" if visits else "home_help"
    if c.data.get("visit_at"):
        when = fmt_when(c.data["visit_at"])
        return kind, when, when
    task = None
    app_id = getattr(c.row, "application_id", None)
    if app_id:
        task = c.session.execute(select(StaffTask).where(
            StaffTask.application_id == app_id, StaffTask.kind.in_(("home_visit", "home_help")))
            .order_by(StaffTask.created_at.desc()).limit(1)).scalar()
    start = local(c.created).date() + timedelta(days=1)
    end = local(task.due_at).date() if task is not None and task.due_at else start + timedelta(days=5)
    end = max(end, start)
    kind = task.kind if task is not None else kind
    return kind, f"{_day(start)} 09:00~{_day(end)} 17:00", f"{_day(start)}至{_day(end)}"


def _values(kind: str, c: _Ctx) -> dict[str, str | None]:
    """WeChat keyword values (fitted later)."""
    d = c.data
    if kind == "proposal_ready":
        return {"thing1": f"{c.program}申请", "amount2": c.amount(), "date3": fmt_datetime(c.created),
                "thing4": d.get("note") or "请进入小程序核对并确认"}
    if kind == "reminder":
        return {"thing1": f"{c.program}申请待确认", "date2": _reminder_deadline(c),
                "thing3": d.get("note") or "逾期未确认社区将上门协助"}
    if kind == "approved":
        start = fmt_date(d.get("start_month"))
        return {"thing1": c.program, "phrase2": "已通过", "amount3": c.amount(), "date4": c.decided(),
                "thing5": d.get("note") or (f"{start}起按月发放" if start else "次月起按月发放")}
    if kind == "rejected":
        return {"thing1": c.program, "phrase2": "未通过", "thing3": d.get("reason") or "详情请进入小程序查看",
                "date4": c.decided()}
    if kind == "tier_raised":
        tier = tier_text(c.program_code, d.get("tier"))
        return {"thing1": c.program, "amount2": c.amount(),
                "date3": fmt_date(d.get("effective_month") or d.get("effective_date") or d.get("start_month")),
                "thing4": d.get("note") or (f"按{tier}档发放，无需申请" if tier else "补贴标准已提高，无需申请")}
    if kind == "payment_started":
        return {"thing1": c.program, "amount2": c.amount(), "date3": fmt_date(d.get("paid_on")) or
                fmt_date(c.now), "thing4": d.get("note") or "已按月发放"}
    if kind == "benefit_stopped":
        (why, _cause, tip), month = _stop(c)
        thing1 = f"{c.name}的{c.program}" if c.deceased and c.name else c.program
        return {"thing1": thing1, "thing2": why, "date3": month or fmt_date(c.now), "thing4": d.get("note") or tip}
    if kind == "proxy_invitation":
        return {"name1": mask_name(d.get("inviter_name") or "") or None, "thing2": d.get("scope_text") or "亲情代办",
                "date3": fmt_date(d.get("expires_on")), "thing4": d.get("note") or "请进入小程序确认授权"}
    if kind == "home_visit_scheduled":
        task_kind, when, _window = _visit(c)
        thing1 = f"{c.program}入户调查" if task_kind == "home_visit" else f"{c.program}申请上门协助"
        return {"thing1": thing1, "time2": when, "thing3": d.get("address") or "您的户籍登记地址",
                "name4": mask_name(d.get("staff_name") or "") or "社区工作人员",
                "phone_number5": d.get("staff_phone") or HOTLINE}
    if kind == "identity_bind_attempt":
        return {"thing1": d.get("action") or "绑定身份证号", "time2": fmt_datetime(c.created),
                "thing3": "如非本人操作请立即联系我们"}
    return {}


def _say_proposal_ready(c: _Ctx) -> str:
    p, amount = c.program, c.amount()
    money = f"（预计每月{amount}）" if amount else ""
    return (f"您有一份{p}申请待确认：根据登记信息，您已符合享受条件，系统已为您预先填好申请{money}。"
            "请进入小程序核对并确认，无需到窗口办理。")


def _say_reminder(c: _Ctx) -> str:
    p = c.program
    by = _reminder_deadline(c)
    return (f"您的{p}申请还在等待您确认，" + (f"请于{by}前" if by else "请尽快") +
            "进入小程序确认。如需帮助，社区工作人员将上门协助。")


def _say_approved(c: _Ctx) -> str:
    d, p, amount = c.data, c.program, c.amount()
    start = fmt_date(d.get("start_month"))
    return (f"您的{p}申请已审核通过" + (f"，每月{amount}" if amount else "") +
            (f"，自{start}起按月发放。" if start else "，次月起按月发放。"))


def _say_rejected(c: _Ctx) -> str:
    d, p = c.data, c.program
    reason = _one_line(d.get("reason") or "").rstrip("。")
    return (f"很抱歉，您的{p}申请未通过审核。" + (f"原因：{reason}。" if reason else "") + REMEDIES +
            f"如有疑问，请联系社区或拨打{HOTLINE}。")


def _say_tier_raised_by_parameters(c: _Ctx) -> str:
    d, p, amount = c.data, c.program, c.amount()
    eff = fmt_date(d.get("effective_month"))
    return (f"您的{p}标准已调整" + (f"，自{eff}起" if eff else "") + (f"每月{amount}" if amount else "") +
            "。无需申请，系统已按新标准发放。")


def _say_tier_raised(c: _Ctx) -> str:
    d, p, amount = c.data, c.program, c.amount()
    tier = tier_text(c.program_code, d.get("tier"))
    eff = fmt_date(d.get("effective_month") or d.get("effective_date") or d.get("start_month"))
    return (f"您的{p}标准已提高" + (f"，自{eff}起" if eff else "") + (f"每月{amount}" if amount else "") +
            (f"（{tier}档）" if tier else "") + "。无需申请，系统已自动调整。")


def _say_payment_started(c: _Ctx) -> str:
    d, p, amount = c.data, c.program, c.amount()
    paid = fmt_date(d.get("paid_on"))
    return f"您的{p}已开始发放" + (f"，每月{amount}" if amount else "") + (f"，{paid}到账" if paid else "") + "。"


def _say_benefit_stopped(c: _Ctx) -> str:
    d, p = c.data, c.program
    (_why, cause, _tip), month = _stop(c)
    since = f"自{month}起" if month else ""
    if d.get("reason") == "death" or c.deceased:
        who = f"您的家人{c.name}" if c.name else "您的家人"
        return (f"{who}的{p}{since}停发。我们深表哀悼，愿您节哀。{REMEDIES}"
                f"后续事宜如有疑问，请联系社区或拨打{HOTLINE}。")
    if d.get("reason") == "moved_out":
        return (f"{cause}您的{p}{since}暂停发放。迁回本市后可恢复发放。{REMEDIES}"
                f"如有异议，请联系社区或拨打{HOTLINE}。")
    if d.get("reason") == "certificate_expired":
        return (f"{cause}您的{p}{since}停发。换领新证后可重新申请。{REMEDIES}"
                f"如有疑问，请联系社区或拨打{HOTLINE}。")
    return f"{cause}您的{p}{since}停发。{REMEDIES}如有异议，请联系社区或拨打{HOTLINE}。"


def _say_proxy_invitation(c: _Ctx) -> str:
    d = c.data
    inviter = mask_name(d.get("inviter_name") or "")
    until = fmt_date(d.get("expires_on"))
    return ((f"{inviter}" if inviter else "有人") + "邀请您成为亲情代办人。" +
            (f"请于{until}前" if until else "请") + "进入小程序确认授权。")


def _say_home_visit_scheduled(c: _Ctx) -> str:
    d, p = c.data, c.program
    task_kind, _when, window = _visit(c)
    phone = d.get("staff_phone") or HOTLINE
    if task_kind == "home_visit":
        return (f"为核实您的{p}申请，社区工作人员将于{window}期间上门入户调查，请留意来电。"
                f"如有疑问，请拨打{phone}。")
    return f"您的{p}申请还未确认，社区工作人员将于{window}期间上门或来电，协助您办理。如有疑问，请拨打{phone}。"


def _say_identity_bind_attempt(c: _Ctx) -> str:
    return (f"{fmt_datetime(c.created)}，有人尝试用您的身份信息在另一个微信账号上绑定，未能成功。"
            f"如非本人操作，请立即联系社区或拨打{HOTLINE}。")


def _say_proxy_granted(c: _Ctx) -> str:
    d = c.data
    who = _masked(d.get("proxy_name")) or "一位亲属"
    return (f"{who}已成为您的亲情代办人，可以为您{_scopes(d.get('scopes'))}。"
            "如非本人意愿，请点击“撤销授权”一键撤销，撤销后立即生效。")


def _say_proxy_request(c: _Ctx) -> str:
    d = c.data
    who = _masked(d.get("proxy_name")) or "一位亲属"
    if d.get("invited"):  # the resident's own QR code was scanned: she asked for this, it waits for her yes
        return (f"{who}已接受您的亲情代办邀请，将可以为您{_scopes(d.get('scopes'))}。"
                "请进入小程序确认后生效；如不是您邀请的人，请拒绝。")
    return (f"{who}申请成为您的亲情代办人，希望为您{_scopes(d.get('scopes'))}。"
            "请进入小程序确认或拒绝；如不认识此人，请直接拒绝。")


def _say_proxy_restored(c: _Ctx) -> str:
    d = c.data
    who = _masked(d.get("proxy_name")) or "您的亲情代办人"
    return (f"{who}已重新完成实名绑定，恢复为您的亲情代办人，可以为您{_scopes(d.get('scopes'))}。"
            "如非本人意愿，请在小程序中撤销授权，撤销后立即生效。")


def _say_benefit_resumed(c: _Ctx) -> str:
    d, p, amount = c.data, c.program, c.amount()
    month = fmt_date(d.get("effective_month") or d.get("resume_month") or d.get("start_month"))
    return (f"您的{p}已恢复发放" + (f"，自{month}起" if month else "") + (f"每月{amount}" if amount else "") +
            "。如有疑问，请联系社区或拨打" + HOTLINE + "。")


def _say_payout_account_changed(c: _Ctx) -> str:
    d, p = c.data, c.program
    bank = d.get("bank_name") if _plain(d.get("bank_name")) else ""
    card = ACCOUNT_KINDS.get(d.get("kind") or "", "账户")
    tail = _tail(d)
    to = (bank or "") + (f"尾号{tail}的{card}" if tail else ("" if bank else f"新的{card}"))
    when = _iso_time(d.get("changed_at"))
    by = ""
    if d.get("by") == "proxy":
        by = f"由亲情代办人{_masked(d.get('proxy_name'))}" if _masked(d.get("proxy_name")) else "由亲情代办人"
    scope = p if c.program_code else "补贴"
    return ((f"{when}，" if when else "") + f"您的{scope}收款账户已{by}变更为{to}，以后的补贴将发放到该账户。"
            f"如非您本人同意，请立即联系社区或拨打{HOTLINE}。")


def _say_certificate_expiring(c: _Ctx) -> str:
    names = "、".join(program_name(code) for code in c.data.get("programs") or [c.program_code])
    when = fmt_date(c.data.get("expiry_date")) or "近期"
    return (f"您的残疾人证将于{when}到期。请在到期前到县级残联换领新证：按时换证，{names}不会中断；"
            f"过期未换证的，自到期次月起停止发放。如有疑问请联系社区或拨打{HOTLINE}。")


def _say_program_change(c: _Ctx) -> str | None:
    """A re-pricing the program words itself (Program.change_texts for the row's reason, e.g. a re-check after new
    income data), with the remedies of a decision; None when the program has no words for that reason."""
    program = _declared(c.program_code)
    reason = c.data.get("reason") or ""
    sentence = (program.change_texts or {}).get(reason) if program is not None and reason else None
    if not sentence:
        return None
    amount = (c.amount() or "").removesuffix("元")
    month = fmt_date(c.data.get("effective_month")) or ""
    said = sentence.format(value=c.data.get("value") or "", month=month, src="", turned="",
                           tier=c.data.get("tier") or "", amount=amount)
    return (f"您家的{c.program}已重新核定：{said}。{REMEDIES}"
            f"如有疑问，请联系社区或拨打{HOTLINE}。")


def _say_tier_raised_any(c: _Ctx) -> str:
    if c.data.get("reason") == "parameter_change":
        return _say_tier_raised_by_parameters(c)
    return _say_program_change(c) or _say_tier_raised(c)


# The sentence of each message kind (data: kind → how it is said).
SENTENCES = {
    "proposal_ready": _say_proposal_ready,
    "reminder": _say_reminder,
    "approved": _say_approved,
    "rejected": _say_rejected,
    "tier_raised": _say_tier_raised_any,
    "payment_started": _say_payment_started,
    "benefit_stopped": _say_benefit_stopped,
    "proxy_invitation": _say_proxy_invitation,
    "home_visit_scheduled": _say_home_visit_scheduled,
    "identity_bind_attempt": _say_identity_bind_attempt,
    "proxy_granted": _say_proxy_granted,
    "proxy_request": _say_proxy_request,
    "proxy_restored": _say_proxy_restored,
    "benefit_resumed": _say_benefit_resumed,
    "payout_account_changed": _say_payout_account_changed,
    "certificate_expiring": _say_certificate_expiring,
}


def _sentence(kind: str, c: _Ctx) -> str:
    """The inbox / SMS text: whole sentences in plain Chinese, no codes, no ID or bank numbers — the occasion's
    own wording first (condolence, one-off payments, 身后一件事), then the kind's entry in SENTENCES, else the
    row's own plain text or a generic line."""
    occasion = occasions.sentence(kind, c, PROGRAM_NAMES)
    if occasion is not None:
        return occasion
    say = SENTENCES.get(kind)
    if say is not None:
        return say(c)
    text = c.data.get("text")
    if _plain(text) and _HAN_RE.search(text):
        return text
    return f"您有一条新消息：{KIND_TITLES.get(kind, '消息通知')}，请进入小程序查看。"

ACCOUNT_KINDS = {"social_security_card": "社会保障卡", "bank_account": "银行账户"}


def _iso_time(value) -> str | None:
    """'2026-11-27T02:30:00Z' (UTC) → '2026年11月27日 10:30' (Asia/Shanghai)."""
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return fmt_datetime(at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at)


def _plain(value) -> bool:
    return isinstance(value, str) and bool(value.strip()) and not sensitive(value) and not re.search(
        r"[A-Za-z_]{3,}", value)


def _masked(name) -> str:
    """A name as given (flows mask it already); masked here if it was not."""
    if not _plain(name):
        return ""
    return name if "*" in name else mask_name(name)


def _tail(d: dict) -> str | None:
    for key in ("account_tail", "account_last4", "account_masked", "number_masked"):
        digits = re.sub(r"\D", "", str(d.get(key) or ""))
        if digits:
            return digits[-4:]
    return None


def _scrub(text: str) -> str:
    return _LONG_DIGITS.sub(_HIDDEN, ID_PATTERN.sub(_HIDDEN, text))


def action_for(kind: str, data: dict | None, *, own: bool = True) -> dict | None:
    """The one-tap action of an inbox item: revoke a new proxy (the resident's own item only)."""
    path = (data or {}).get("revoke_path")
    if kind == "proxy_granted" and own and isinstance(path, str) and REVOKE_PATH.fullmatch(path):
        return {"label": "撤销授权", "method": "POST", "path": path}
    return None


def _page(kind: str, row) -> str:
    app_id = getattr(row, "application_id", None)
    if kind == "proxy_invitation":
        return "pages/proxy/accept"
    return f"pages/applications/detail?id={app_id}" if app_id else "pages/index/index"


def render(session: Session, row, *, now: datetime | None = None) -> Message:
    """Build a message for an outbox row (ORM object or row mapping with the outbox columns).

    A copy for a proxy (`data.for_resident`) says so; anything about a deceased resident is worded for her
    family ("您的家人…"), whoever reads it.
    """
    kind = row.kind
    data = dict(row.data or {})
    application = session.get(Application, row.application_id) if row.application_id else None
    benefit = session.get(Benefit, data["benefit_id"]) if data.get("benefit_id") else None
    subject_id = data.get("for_resident") or getattr(row, "resident_id", None) or (
        application.resident_id if application else None)
    subject = session.get(Resident, subject_id) if isinstance(subject_id, int) else None
    relation = data.get("relation") or ("proxy" if data.get("for_resident") else None)
    ctx = _Ctx(session, row, data, application, benefit, now or utcnow(), subject, relation)
    values = _values(kind, ctx)
    template = template_for(kind)
    title = template.title if template else KIND_TITLES.get(kind, "消息通知")
    body = _sentence(kind, ctx)
    if ctx.deceased and kind not in ("benefit_stopped", "after_death"):
        body = f"关于您的家人{ctx.name}的消息：{body}"
    elif relation == "proxy" and not ctx.deceased:
        body = f"您作为亲情代办人代收的消息（{ctx.name or '被代办人'}）：\n{body}"
    body = _scrub(body)
    message = Message(kind=kind, title=title, body=body, page=_page(kind, row), template=template,
                      action=action_for(kind, data, own=relation is None))
    if template:
        for key, _name in template.keywords:
            fitted = fit(key, values.get(key))
            if fitted is None:
                message.problems.append(key)
            else:
                message.wechat_data[key] = {"value": fitted}
    text = _one_line(body)
    text = text if len(text) <= 150 else text[:149] + ELLIPSIS
    message.sms_text = f"【{APP_NAME}】{title}：{text}详情请在微信搜索“{APP_NAME}”小程序查看。"
    return message
