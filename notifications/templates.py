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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.db import utcnow
from app.idnumbers import ID_PATTERN
from app.masking import mask_name
from app.models import Application, Benefit

REGISTRY_PATH = Path(__file__).with_name("wechat_templates.json")
ONE_TIME, LONG_TERM = 2, 3
TZ = ZoneInfo("Asia/Shanghai")

PROGRAM_NAMES = {
    "elderly_allowance": "高龄津贴",
    "disability_living_subsidy": "困难残疾人生活补贴",
    "disability_care_subsidy": "重度残疾人护理补贴",
    "dibao": "城乡低保",
}
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
}
# Kinds that ignore quiet hours: a security alert must not wait for the morning, and the answer to the
# citizen's own tap (confirm → approved / rejected) is expected at once — she is awake, she just used the app.
# Everything the system starts on its own (proposals, reminders, tier raises, stops) waits for 08:00.
URGENT_KINDS = frozenset({"identity_bind_attempt", "approved", "rejected"})
APP_NAME = "民政零跑"


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
_TIME = r"([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?"
_DATE = r"\d{4}年(0?[1-9]|1[0-2])月((0?[1-9]|[12]\d|3[01])日)?|\d{4}-(0?[1-9]|1[0-2])(-(0?[1-9]|[12]\d|3[01]))?"
_DATE_RE = re.compile(rf"({_DATE})( {_TIME})?", re.ASCII)
_TIME_RE = re.compile(rf"(({_DATE}) )?{_TIME}", re.ASCII)
_AMOUNT_RE = re.compile(r"[¥￥]?\d{1,10}(\.\d{1,2})?元?", re.ASCII)
_LONG_DIGITS = re.compile(r"\d[\d ]{13,}\d")  # 15+ digits: ID numbers (old and new), bank cards
ELLIPSIS = "…"


def _key_type(key: str) -> str:
    m = re.fullmatch(r"(.*?)(\d+)", key)
    return m.group(1) if m else key


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
        return text if _DATE_RE.fullmatch(text) else None
    if kind == "time":
        return text if _TIME_RE.fullmatch(text) else None
    if kind == "phrase":
        return text if len(text) <= 5 and all(_HAN_RE.fullmatch(c) for c in text) else None
    if kind == "name":
        if any(c.isdigit() for c in text):
            return None
        return text if len(text) <= (10 if _HAN_RE.search(text) else 20) else None
    if kind == "phone_number":
        ok = len(text) <= 17 and any(c.isdigit() for c in text) and all(c.isdigit() or c in "+-()" for c in text)
        return text if ok else None
    if kind in ("number",):
        return text if re.fullmatch(r"\d{1,32}(\.\d+)?", text) and len(text) <= 32 else None
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
    m = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", text)
    if not m:
        return text
    y, mo, d = m.group(1), int(m.group(2)), m.group(3)
    return f"{y}年{mo}月{int(d)}日" if d else f"{y}年{mo}月"


def fmt_when(value) -> str | None:
    """An ISO local date-time text ('2026-12-01T10:00' or '2026-12-01 10:00') → '2026年12月1日 10:00'."""
    if not value:
        return None
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2}).*", str(value).strip())
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

    @property
    def wechat_ok(self) -> bool:
        return self.template is not None and not self.problems


@dataclass
class _Ctx:
    row: object
    data: dict
    application: Application | None
    benefit: Benefit | None
    now: datetime

    @property
    def program(self) -> str:
        code = self.data.get("program") or (self.application.program if self.application else None) or (
            self.benefit.program if self.benefit else None)
        return program_name(code)

    def amount(self) -> str | None:
        value = self.data.get("monthly_amount")
        if value is None and self.application is not None:
            item = (self.application.prefill or {}).get("monthly_amount")
            value = item.get("value") if isinstance(item, dict) else item
        if value is None and self.benefit is not None:
            fen = self.benefit.monthly_amount_fen
            value = f"{fen // 100}.{fen % 100:02d}"
        return fmt_amount(value)

    def decided(self) -> str:
        at = self.application.decided_at if self.application and self.application.decided_at else self.now
        return fmt_datetime(at)


def _values(kind: str, c: _Ctx) -> dict[str, str | None]:
    d = c.data
    if kind == "proposal_ready":
        return {"thing1": f"{c.program}申请", "amount2": c.amount(),
                "date3": fmt_datetime(getattr(c.row, "created_at", None) or c.now),
                "thing4": d.get("note") or "请进入小程序核对并确认"}
    if kind == "reminder":
        return {"thing1": f"{c.program}申请待确认", "date2": fmt_date(d.get("deadline")),
                "thing3": d.get("note") or "逾期未确认将自动关闭"}
    if kind == "approved":
        start = fmt_date(d.get("start_month"))
        return {"thing1": c.program, "phrase2": "已通过", "amount3": c.amount(), "date4": c.decided(),
                "thing5": d.get("note") or (f"{start}起按月发放" if start else "次月起按月发放")}
    if kind == "rejected":
        return {"thing1": c.program, "phrase2": "未通过", "thing3": d.get("reason") or "详情请进入小程序查看",
                "date4": c.decided()}
    if kind == "tier_raised":
        return {"thing1": c.program, "amount2": c.amount(),
                "date3": fmt_date(d.get("effective_date") or d.get("start_month")),
                "thing4": d.get("note") or "补贴标准已提高"}
    if kind == "payment_started":
        return {"thing1": c.program, "amount2": c.amount(), "date3": fmt_date(d.get("paid_on")) or
                fmt_date(c.now), "thing4": d.get("note") or "已按月发放"}
    if kind == "benefit_stopped":
        return {"thing1": c.program, "thing2": d.get("reason") or "享受条件发生变化",
                "date3": fmt_date(d.get("stop_date") or d.get("end_month")) or fmt_date(c.now),
                "thing4": d.get("note") or "如有异议请联系社区"}
    if kind == "proxy_invitation":
        return {"name1": mask_name(d.get("inviter_name") or "") or None, "thing2": d.get("scope_text") or "亲情代办",
                "date3": fmt_date(d.get("expires_on")), "thing4": d.get("note") or "请进入小程序确认授权"}
    if kind == "home_visit_scheduled":
        return {"thing1": f"{c.program}入户调查", "time2": fmt_when(d.get("visit_at")), "thing3": d.get("address"),
                "name4": mask_name(d.get("staff_name") or "") or None, "phone_number5": d.get("staff_phone")}
    if kind == "identity_bind_attempt":
        return {"thing1": d.get("action") or "绑定身份证号", "time2": fmt_datetime(c.now),
                "thing3": "如非本人操作请立即联系我们"}
    return {"thing1": d.get("text") or KIND_TITLES.get(kind, "消息通知")}


def _page(kind: str, row) -> str:
    app_id = getattr(row, "application_id", None)
    if kind == "proxy_invitation":
        return "pages/proxy/accept"
    return f"pages/applications/detail?id={app_id}" if app_id else "pages/index/index"


def render(session: Session, row, *, now: datetime | None = None) -> Message:
    """Build a message for an outbox row (ORM object or row mapping with the outbox columns)."""
    kind = row.kind
    data = dict(row.data or {})
    application = session.get(Application, row.application_id) if row.application_id else None
    benefit = session.get(Benefit, data["benefit_id"]) if data.get("benefit_id") else None
    ctx = _Ctx(row, data, application, benefit, now or utcnow())
    values = _values(kind, ctx)
    template = template_for(kind)
    title = template.title if template else KIND_TITLES.get(kind, "消息通知")
    names = dict(template.keywords) if template else {}
    lines = []
    for key, value in values.items():
        if value not in (None, "") and not sensitive(str(value)):
            lines.append(f"{names.get(key, '')}：{_one_line(value)}" if names.get(key) else _one_line(value))
    message = Message(kind=kind, title=title, body="\n".join(lines), page=_page(kind, row), template=template)
    if template:
        for key, _name in template.keywords:
            fitted = fit(key, values.get(key))
            if fitted is None:
                message.problems.append(key)
            else:
                message.wechat_data[key] = {"value": fitted}
    summary = "，".join(_one_line(v) for v in values.values() if v and not sensitive(str(v)))[:60]
    message.sms_text = f"【{APP_NAME}】{title}：{summary}。详情请在微信搜索“{APP_NAME}”小程序查看。"
    return message
