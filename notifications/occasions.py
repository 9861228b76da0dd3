"""Messages that follow the occasion rather than the kind alone (a generic hook of the templates):

- `data.occasion == "bereavement"`: a proposal or decision made to someone because a relative died is worded as
  condolence (never "恭喜"), names the deceased (masked) and says what is paid once;
- `data.one_off`: a one-off payment is "一次性发放", never "每月";
- kind `after_death` (身后一件事): ONE message to the family of a deceased resident, built at send time from the
  database: which benefits stop from which month, any overpayment to return and how, what is left for the family
  to confirm (applications about her proposed to other residents), whom to call;
- kind `one_off_paid`: a one-off payment went out with a closed roll (one per payee; a household payment names
  the number of persons).
"""

from __future__ import annotations

from sqlalchemy import select

from app.masking import mask_name
from app.models import (
    Application,
    ApplicationApplicant,
    Benefit,
    BenefitChange,
    PayrollLine,
    PayrollRun,
    Resident,
)

HOTLINE = "12345"


def _month_zh(month: str | None) -> str:
    return f"{int(month[:4])}年{int(month[5:7])}月" if month and len(month) == 7 else (month or "")


def sentence(kind: str, c, names: dict) -> str | None:
    """The inbox / SMS text for these occasions, or None for the ordinary wording."""
    d = c.data
    one_off = d.get("one_off_amount")
    about = d.get("about_name") or ""
    if kind == "after_death":  # names of programs the notifications do not know come with the row
        return after_death(c.session, c.subject, {**names, **(d.get("program_names") or {})})
    if kind == "one_off_paid":
        persons = int(d.get("persons") or 1)
        per = f"（{persons}人）" if persons > 1 else ""
        return (f"{c.program}{d.get('amount')}元{per}已随{_month_zh(d.get('month'))}发放名册发放到您的收款账户，"
                f"无需申请。如有疑问，请联系社区或拨打{HOTLINE}。")
    if d.get("occasion") == "bereavement":
        who = f"您的家人{about}" if about else "您的家人"
        if kind == "proposal_ready":
            return (f"{who}离世，我们深表哀悼，愿您节哀。您可以申领{c.program}" +
                    (f"{one_off}元（一次性发放；殡仪馆已直接减免的费用不再重复发放）" if one_off else "") +
                    "：系统已预先填好申请，请进入小程序核对并确认，无需到窗口办理，也无需委托授权。"
                    "多位家属收到此消息时，以最先确认者为准。")
        if kind == "approved":
            tail = ("请在小程序中填写您本人的收款账户，" if d.get("payout_needed") else "")
            return (f"您为{who.replace('您的', '')}申领的{c.program}已核准" +
                    (f"，{one_off}元将一次性发放到您本人的收款账户，随下一期发放名册支付" if one_off else "") +
                    f"。{tail}愿您节哀。如有疑问，请联系社区或拨打{HOTLINE}。")
        if kind == "rejected":
            # the one wording of the remedies (imported here: templates imports this module)
            from notifications.templates import REMEDIES

            reason = (d.get("reason") or "").rstrip("。")
            return (f"您为{who.replace('您的', '')}申领的{c.program}未能核准" + (f"：{reason}" if reason else "") +
                    f"。{REMEDIES}如有疑问，请联系社区或拨打{HOTLINE}。")
    return None


def after_death(session, subject: Resident | None, names: dict) -> str:
    """身后一件事: everything the family needs to know and do, in one message."""
    if subject is None:
        return "我们深表哀悼，愿您节哀。"
    who = f"您的家人{mask_name(subject.name)}" if subject.name else "您的家人"
    died = subject.death_date
    parts = [f"{who}" + (f"于{died.year}年{died.month}月{died.day}日" if died else "") + "离世，我们深表哀悼，愿您节哀。"
             "以下事项已由系统一并办理（身后一件事）："]
    stopped = session.execute(
        select(Benefit.id, Benefit.program, BenefitChange.effective_month)
        .join(BenefitChange, BenefitChange.benefit_id == Benefit.id)
        .where(Benefit.resident_id == subject.id, BenefitChange.reason == "death", BenefitChange.kind == "stopped")
        .order_by(Benefit.program)).all()
    if stopped:
        from notifications.templates import REMEDIES  # the one wording (templates imports this module)

        parts.append("一、停发待遇：" + "；".join(
            f"{names.get(s.program, s.program)}自{_month_zh(s.effective_month)}起停发" for s in stopped) + "。"
            + REMEDIES)
    else:
        parts.append("一、停发待遇：无正在发放的待遇。")
    over = _overpaid_fen(session, [s.id for s in stopped], died)
    if over:
        parts.append(f"二、多发金额：离世后已发放{over // 100}.{over % 100:02d}元，需退回。社区工作人员将联系您，"
                     "可通过原收款账户退回或由社区协助办理，无需到窗口。")
    else:
        parts.append("二、多发金额：无，无需退回。")
    offers = session.execute(
        select(Application.program, Resident.name)
        .join(ApplicationApplicant, ApplicationApplicant.application_id == Application.id)
        .join(Resident, Resident.id == ApplicationApplicant.resident_id)
        .where(Application.resident_id == subject.id, Application.state == "proposed",
               ApplicationApplicant.state == "proposed")
        .order_by(Application.program, Resident.name)).all()
    if offers:
        by_program: dict[str, list[str]] = {}
        for o in offers:
            by_program.setdefault(o.program, []).append(mask_name(o.name))
        parts.append("三、待确认事项：" + "；".join(
            f"{names.get(p, p)}，请{'或'.join(ns)}在小程序中一键确认（以最先确认者为准）"
            for p, ns in by_program.items()) + "。")
    else:
        parts.append("三、待确认事项：无。")
    parts.append(f"如有疑问，请联系户籍所在社区或拨打{HOTLINE}。")
    return "".join(parts)


def _overpaid_fen(session, benefit_ids: list[str], died) -> int:
    """What closed rolls paid for months after the death month."""
    if not benefit_ids or died is None:
        return 0
    death_month = f"{died:%Y-%m}"
    total = 0
    for months in session.scalars(
            select(PayrollLine.months).join(PayrollRun, PayrollRun.id == PayrollLine.run_id)
            .where(PayrollRun.state == "closed", PayrollLine.status == "paid",
                   PayrollLine.benefit_id.in_(benefit_ids), PayrollLine.covered_to > death_month)):
        total += sum(int(v[1]) for m, v in (months or {}).items() if m > death_month)
    return total



