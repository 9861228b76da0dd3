"""Turning an application row into what the citizen sees: fields with sources, plain-language reasons."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from app.models import Application, Benefit, BenefitChange
from flows import appeals, programs, sources
from flows.applications import AREA_FIELDS, BENEFIT_COLUMNS
from flows.casework import rule_trace
from flows.dates import nth_birthday, today_shanghai, zh_date
from flows.facts import FACT_COLUMNS
from flows.money import yuan

# what the resident reads beside each field (flows.sources: the common names and each program's own)
FIELD_LABELS, SOURCE_NAMES = sources.FIELD_LABELS, sources.SOURCE_NAMES
ACTIONS = {"proposed": ["confirm", "decline"], "declined": ["reopen"]}



def _value_of(item):
    return item.get("value") if isinstance(item, dict) else item


def area_names_of(session, applications) -> dict[str, str]:
    """code → name (valid today) of the district, street and community codes pre-filled in these applications:
    one query for a page."""
    from flows import areas
    from flows.dates import today_shanghai

    codes = {_value_of((a.prefill or {}).get(key)) for a in applications for key in AREA_FIELDS}
    return areas.names(session, [c for c in codes if isinstance(c, str)], today_shanghai())


# Pre-filled data kept for staff, not shown as a field: the household's economic check (the case page's own table).
INTERNAL_FIELDS = ("economic_check",)


def fields_of(prefill: dict, names: dict[str, str] | None = None) -> list[dict]:
    """The pre-filled fields; an area code's name (from `names`) is `value_name`, the code stays in `value`."""
    out = []
    for key, item in (prefill or {}).items():
        if key in INTERNAL_FIELDS:
            continue
        value = _value_of(item)
        source = item.get("source", "") if isinstance(item, dict) else ""
        out.append({
            "field": key, "label": FIELD_LABELS.get(key, key),
            "value": _text(value),
            "value_name": (names or {}).get(value) if key in AREA_FIELDS else sources.value_words(key, value),
            "source": source, "source_name": SOURCE_NAMES.get(source, source),
            "source_date": (item.get("source_date") if isinstance(item, dict) else None) or None,
        })
    return out


def _text(value) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else str(value)


def reasons_of(rule: list[dict]) -> list[str]:
    """Why the citizen qualifies: the texts of the conditions in the application's own trace, nothing else."""
    return [c.get("text", "") for c in rule if c.get("text")]


def _month_zh(month: str) -> str:
    return f"{int(month[:4])}年{int(month[5:7])}月" if month and len(month) == 7 else month


def change_text(change: BenefitChange, program_code: str | None = None) -> str:
    """A lifecycle decision in plain Chinese, from its stored trace (values, source, date): the program's own
    sentence for the change's reason or kind (Program.change_texts), else the words shared by every program."""
    item = (change.trace or [{}])[0]
    src = f"(来源:{SOURCE_NAMES.get(item.get('source', ''), item.get('source', ''))},{item.get('source_date', '')})"
    month = _month_zh(change.effective_month)
    program = programs.get(program_code or "")
    own = (program.change_texts or {}) if program is not None else {}
    sentence = own.get(change.reason or "") or own.get(change.kind or "")
    if sentence:
        return sentence.format(value=item.get("value", ""), month=month, src=src, turned=_turned(item),
                               tier=change.tier, amount=yuan(change.monthly_amount_fen))
    if change.kind == "tier_raised":
        return f"自{month}起按{change.tier}档每月{yuan(change.monthly_amount_fen)}元发放{src}"
    if change.reason == "death":
        return f"人口库登记于{item.get('death_date', '')}去世,自{month}起停止发放{src}"
    if change.reason == "moved_out":
        return f"户籍于{item.get('move_date', '')}迁出本市,自{month}起暂停发放{src}"
    if change.reason in ("member_death", "member_moved_out"):  # flows.lifecycle.household: the last entry says who
        said = (change.trace or [{}])[-1].get("text", "")
        amount = f",每月{yuan(change.monthly_amount_fen)}元" if change.kind == "repriced" else ",停止发放"
        return f"{said}{amount}"
    if change.reason == "parameter_change":
        return f"标准调整,自{month}起每月{yuan(change.monthly_amount_fen)}元{src}"
    if change.reason == "moved_in":
        return f"户籍迁回本市,自{month}起恢复发放{src}"
    return f"{change.kind} {change.effective_month}"


def _turned(item: dict) -> str:
    """The day of the birthday a tier raise names (its trace: birth date and the age reached)."""
    from datetime import date

    try:
        return zh_date(nth_birthday(date.fromisoformat(item["birth_date"]), int(item["value"])))
    except (KeyError, ValueError, TypeError):
        return ""


def trace_of(application, changes, rule: list[dict] | None = None) -> list[dict]:
    """Every decision on the case, in plain Chinese with source and date: the rule check, then the benefit's
    lifecycle decisions (`changes`: tier raised, stopped, suspended, oldest first)."""
    out = []
    for entry in (application.trace or []) if rule is None else rule:
        source = entry.get("source", "")
        out.append({"kind": "decision", "code": entry.get("code", ""), "passed": bool(entry.get("passed")),
                    "text": entry.get("text", ""), "source_name": SOURCE_NAMES.get(source, source),
                    "source_date": entry.get("source_date") or None, "effective_month": None})
    for change in changes:
        item = (change.trace or [{}])[0]
        source = item.get("source", "")
        out.append({"kind": change.kind, "code": item.get("code", change.kind),
                    "passed": change.kind == "tier_raised", "text": change_text(change, application.program),
                    "source_name": SOURCE_NAMES.get(source, source), "source_date": item.get("source_date"),
                    "effective_month": change.effective_month})
    return out


CHANGE_COLUMNS = ("kind", "effective_month", "tier", "monthly_amount_fen", "reason", "trace")


def changes_of(session, benefit_ids: list[str]) -> dict[str, list]:
    """The lifecycle changes of these benefits, oldest first, in one query (plain rows)."""
    if not benefit_ids:
        return {}
    c = BenefitChange.__table__.c
    out: dict[str, list] = {}
    for row in session.execute(select(c.benefit_id, *(c[name] for name in CHANGE_COLUMNS))
                               .where(c.benefit_id.in_(benefit_ids))
                               .order_by(c.created_at, c.id)):
        out.setdefault(row.benefit_id, []).append(row)
    return out


def payload(session, application: Application) -> dict:
    """One application (ORM object) as the citizen sees it."""
    b, c = Benefit.__table__.c, BenefitChange.__table__.c
    rows = session.execute(
        select(*(b[name] for name in BENEFIT_COLUMNS), *(c[name].label(f"change_{name}") for name in CHANGE_COLUMNS))
        .select_from(Benefit.__table__.outerjoin(BenefitChange.__table__, c.benefit_id == b.id))
        .where(b.program == application.program, b.resident_id == application.resident_id,
               b.application_id == application.id)
        .order_by(c.created_at, c.id)).all()  # the benefit and its changes in one query (one row without any)
    if not rows:
        return build(session, application, None, [])
    changes = [SimpleNamespace(**{name: getattr(row, f"change_{name}") for name in CHANGE_COLUMNS})
               for row in rows if row.change_kind is not None]
    return build(session, application, rows[0], changes)


def payloads_of_rows(session, rows) -> list[dict]:
    """A page of `flows.applications.rows_for_resident` rows as the citizen sees them (one more query only
    when some of their benefits have lifecycle changes, for those)."""
    benefits = [_benefit_of_row(row) for row in rows]
    changes = changes_of(session, [row.benefit_id for row in rows if row.benefit_has_changes])
    return [build(session, row, benefit, changes.get(benefit.id, []) if benefit is not None else [],
                  _area_names_of_row(row), _resident_of_row(row))
            for row, benefit in zip(rows, benefits, strict=True)]


def _area_names_of_row(row) -> dict[str, str]:
    """code → name of the row's pre-filled area codes, read in the row's own statement (`name_<field>`)."""
    pre = row.prefill or {}
    return {code: name for code, name in ((_value_of(pre.get(key)), getattr(row, f"name_{key}"))
                                          for key in AREA_FIELDS) if isinstance(code, str) and name is not None}


def _resident_of_row(row):
    """The subject's facts columns read with the row (`subject_<name>`), or None without a subject."""
    if row.subject_id is None:
        return None
    return SimpleNamespace(**{name: getattr(row, f"subject_{name}") for name in FACT_COLUMNS})


def _benefit_of_row(row):
    if row.benefit_id is None:
        return None
    return SimpleNamespace(**{name: getattr(row, f"benefit_{name}") for name in BENEFIT_COLUMNS})


def build(session, application, benefit, changes, names: dict[str, str] | None = None, resident=None) -> dict:
    """`application` and `benefit` are ORM objects or plain rows with the same attribute names; `names` the
    area names of its pre-filled codes (`area_names_of`, looked up here when not given); `resident` its
    subject's facts columns when already read (`flows.casework.rule_trace`)."""
    program = programs.get(application.program)
    pre = application.prefill or {}
    rule = rule_trace(session, application, resident)
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
        "fields": fields_of(pre, area_names_of(session, [application]) if names is None else names),
        "reasons": reasons_of(rule),
        "actions": ACTIONS.get(application.state, []),
        "trace": trace_of(application, changes, rule),
        "benefit": benefit_payload(benefit) if benefit else None,
        "appeal_until": (appeals.application_appeal_until(application, today_shanghai(), filing_days())
                         if appeals.is_decided(application) else None),  # the clock and the setting only then
    }


def filing_days() -> int:
    """The operator's filing period of an appeal (ZEROTRIP_APPEAL_FILING_DAYS)."""
    from app.api.security import config

    return config().appeal_filing_days


def benefit_payload(benefit: Benefit, appeal_until=None) -> dict:
    program = programs.get(benefit.program)
    return {
        "id": benefit.id, "program": benefit.program,
        "program_name": program.name if program else benefit.program,
        "tier": benefit.tier, "monthly_amount": yuan(benefit.monthly_amount_fen),
        "start_month": benefit.start_month, "end_month": benefit.end_month, "state": benefit.state,
        "appeal_until": appeal_until,
    }
