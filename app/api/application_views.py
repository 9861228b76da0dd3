"""Turning an application row into what the citizen sees: fields with sources, plain-language reasons."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Application, Benefit
from flows import programs
from flows.money import yuan

FIELD_LABELS = {
    "name": "姓名", "sex": "性别", "birth_date": "出生日期", "district_code": "区县", "street_code": "街道",
    "community_code": "社区", "hukou_local": "本市户籍", "age": "年龄", "tier": "档次",
    "monthly_amount": "每月金额(元)", "start_month": "起始发放月份",
}
SOURCE_NAMES = {"population_registry": "公安人口库", "rule:elderly_allowance": "高龄津贴政策规则"}
ACTIONS = {"proposed": ["confirm", "decline"], "declined": ["reopen"]}


def fields_of(prefill: dict) -> list[dict]:
    out = []
    for key, item in (prefill or {}).items():
        value = item.get("value") if isinstance(item, dict) else item
        source = item.get("source", "") if isinstance(item, dict) else ""
        out.append({
            "field": key, "label": FIELD_LABELS.get(key, key),
            "value": _text(value), "source": source, "source_name": SOURCE_NAMES.get(source, source),
            "source_date": (item.get("source_date") if isinstance(item, dict) else None) or None,
        })
    return out


def _text(value) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else str(value)


def reasons_of(application: Application) -> list[str]:
    if application.trace:
        return [c.get("text", "") for c in application.trace]
    pre = application.prefill or {}
    born = (pre.get("birth_date") or {}).get("value")
    src = (pre.get("birth_date") or {}).get("source_date")
    reasons = []
    if born:
        reasons.append(f"您出生于{born},已年满80周岁(来源:公安人口库,{src})")
    reasons.append(f"您的户籍在本市(来源:公安人口库,{src})")
    return reasons


def payload(session, application: Application) -> dict:
    program = programs.get(application.program)
    benefit = session.execute(select(Benefit).where(Benefit.application_id == application.id)).scalar()
    pre = application.prefill or {}
    return {
        "id": application.id,
        "program": application.program,
        "program_name": program.name if program else application.program,
        "state": application.state,
        "origin": application.origin,
        "as_of": application.as_of,
        "created_at": application.created_at,
        "updated_at": application.updated_at,
        "confirmed_at": application.confirmed_at,
        "decided_at": application.decided_at,
        "decline_reason": application.decline_reason,
        "monthly_amount": (pre.get("monthly_amount") or {}).get("value"),
        "start_month": (pre.get("start_month") or {}).get("value"),
        "fields": fields_of(pre),
        "reasons": reasons_of(application),
        "actions": ACTIONS.get(application.state, []),
        "benefit": benefit_payload(benefit) if benefit else None,
    }


def benefit_payload(benefit: Benefit) -> dict:
    program = programs.get(benefit.program)
    return {
        "id": benefit.id, "program": benefit.program,
        "program_name": program.name if program else benefit.program,
        "tier": benefit.tier, "monthly_amount": yuan(benefit.monthly_amount_fen),
        "start_month": benefit.start_month, "end_month": benefit.end_month, "state": benefit.state,
    }
