"""Parameters are operator data: a change is proposed by one admin, approved by another, and holds from a month.

`propose_change` checks the value against the program's declared ParamSpec (type, range) and records a pending
maker-checker approval (flows.approvals, kind `parameter_change`); nothing else is stored before approval.
On approval the value is written to `parameter_values` (rows only ever added), the program's dated parameters
are reloaded, and every benefit in payment whose amount changes gets a dated `repriced` change from the
effective month (closed rolls never change; a month already paid is paid its difference as an arrears line by
the next open roll, only when the change was made `--arrears`). Each affected recipient gets one message
when the first roll at the new amount closes (flows.payroll).

`load(session)` overlays the approved values on each program's declared defaults (process-wide, idempotent):
the scans, the payroll and the guide call it before reading a parameter.
"""

from __future__ import annotations

import copy
import re
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import digits
from app.errors import Conflict, NotFound, Unprocessable
from app.models import Approval, Benefit, BenefitChange, ParameterValue, PayrollRun, Resident, StaffMember
from flows import approvals, programs
from flows.dates import month_index, today_shanghai
from flows.lifecycle import household
from flows.params import Dated

KIND = "parameter_change"
MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])\Z")
_DEFAULTS: dict[tuple[str, str], Dated] = {}

PLANNED_YEARS_AHEAD = 5  # a dated change further ahead than this is a typo (9999-12 was accepted)


def _program(code: str):
    program = programs.get(code)
    if program is None:
        raise NotFound(f"No program {code[:40]!r}.", error_code="program_unknown")
    return program


def parse_value(program, key: str, raw: str):
    """The stored value of `raw` for `key`, or 422 `parameter_invalid` (unknown key, wrong type, out of range)."""
    spec = program.parameter_specs.get(key)
    if spec is None:
        raise Unprocessable(f"{program.code} has no settable parameter {key[:60]!r}; settable: "
                            + ", ".join(sorted(program.parameter_specs)), error_code="parameter_invalid")
    text = digits.to_ascii(str(raw).strip())  # full-width ０-９ are read as 0-9, as everywhere
    foreign = digits.foreign_digit(text)
    if foreign is not None:
        raise Unprocessable(f"{key}: write numbers with the digits 0-9 (full-width ０-９ are accepted); "
                            f"{digits.describe(foreign)} is not one of them.", error_code="parameter_invalid")
    if spec.kind == "int":
        if not re.fullmatch(r"[0-9]{1,9}", text):
            raise Unprocessable(f"{key} takes a whole number.", error_code="parameter_invalid")
        value = int(text)
    else:
        if not re.fullmatch(r"[0-9]{1,9}(\.[0-9]{1,2})?", text):
            raise Unprocessable(f"{key} takes an amount in yuan such as 60.00.", error_code="parameter_invalid")
        whole, _, cents = text.partition(".")
        value = int(whole) * 100 + int((cents + "00")[:2])
    if not spec.minimum <= value <= spec.maximum:
        shown = (lambda v: f"{v // 100}.{v % 100:02d}") if spec.kind == "yuan" else str
        raise Unprocessable(f"{key} must be between {shown(spec.minimum)} and {shown(spec.maximum)}.",
                            error_code="parameter_invalid")
    return value


def closed_months(session: Session) -> set[str]:
    return set(session.scalars(select(PayrollRun.month).where(PayrollRun.state == "closed")))


def propose_change(session: Session, maker: StaffMember, code: str, key: str, raw: str, from_month: str, *,
                   arrears: bool = False) -> Approval:
    program = _program(code)
    value = parse_value(program, key, raw)
    if not MONTH.match(from_month or ""):
        raise Unprocessable("--from is a month YYYY-MM.", error_code="parameter_invalid")
    if month_index(from_month) < month_index(f"{program.start_date:%Y-%m}"):
        raise Unprocessable("A change cannot start before the program.", error_code="parameter_invalid")
    if int(from_month[:4]) > today_shanghai().year + PLANNED_YEARS_AHEAD:
        raise Unprocessable(f"A change starts at most {PLANNED_YEARS_AHEAD} years ahead.",
                            error_code="parameter_invalid")
    latest_closed = session.scalar(select(func.max(PayrollRun.month)).where(PayrollRun.state == "closed"))
    in_closed = latest_closed is not None and from_month <= latest_closed
    if in_closed and not arrears:
        raise Unprocessable(f"{from_month} is in a closed roll (last closed {latest_closed}): add --arrears to pay "
                            "the differences in the next open roll.", error_code="month_closed")
    payload = {"program": code, "key": key, "value": value, "raw": digits.to_ascii(str(raw).strip()), "from": from_month,
               "arrears": bool(in_closed and arrears)}
    return approvals.propose(session, KIND, f"param:{code}:{key}", payload, maker)


def _apply(session: Session, approval: Approval, checker: StaffMember) -> None:
    p = approval.payload
    program = _program(p["program"])
    parse_value(program, p["key"], p["raw"])  # the declared range may have narrowed since the proposal
    if program.amount_for is not None:
        load(session)
        before = rule_amounts(session, program, p["from"])  # what the rule gave each benefit without this change
    session.add(ParameterValue(program=p["program"], key=p["key"], effective_month=p["from"], value={"v": p["value"]},
                               arrears=bool(p.get("arrears")), approval_id=approval.id))
    session.flush()
    load(session)
    if program.amount_for is not None:
        reprice(session, program, p["from"], approval.id, before)
    elif program.household_facts is not None:  # a household case: its rule on the facts of its last decision
        household.reprice_on_parameter_change(session, program, p["from"], f"param:{approval.id}"[:40],
                                              today_shanghai(), _amount_before)


approvals.register(approvals.Kind(KIND, "admin", _apply,
                                  lambda a: f"{a.payload.get('program')} {a.payload.get('key')}="
                                            f"{a.payload.get('raw')} 自{a.payload.get('from')}"))


def _set_entry(value, label: str, new):
    """`value` (a table: dict keyed by int, or rows (age, label, amount)) with entry `label` set to `new`."""
    if isinstance(value, dict):
        out = dict(value)
        out[int(label) if re.fullmatch(r"[0-9]+", label) else label] = new
        return out
    return tuple((row[0], row[1], new) if row[1] == label else row for row in value)


def reset() -> None:
    """Back to every program's declared defaults (the state of a database with no approved change)."""
    for (code, name), dated in _DEFAULTS.items():
        program = programs.get(code)
        if program is not None:
            program.parameters[name] = dated


def load(session: Session) -> None:
    """Each program's parameters = its declared defaults + the approved changes, in order of effect."""
    rows = session.execute(select(ParameterValue).order_by(ParameterValue.effective_month,
                                                           ParameterValue.created_at)).scalars().all()
    for program in programs.PROGRAMS.values():
        for name, dated in program.parameters.items():
            if isinstance(dated, Dated):
                _DEFAULTS.setdefault((program.code, name), dated)
                program.parameters[name] = _DEFAULTS[(program.code, name)]
    for row in rows:
        program = programs.get(row.program)
        if program is None:
            continue
        name, _, label = row.key.partition(".")
        current: Dated = program.parameters[name]
        start = date(int(row.effective_month[:4]), int(row.effective_month[5:7]), 1)
        on = max(start, current.first_date())
        value = _set_entry(copy.deepcopy(current.at(on)), label, row.value["v"]) if label else row.value["v"]
        changes = [c for c in current.changes if c[0] != start] + [(start, value)]
        program.parameters[name] = Dated(tuple(sorted(changes, key=lambda c: c[0])))


def load_for(cfg) -> None:
    """`load` in a short session of its own (the scans and lifecycle jobs run on connections)."""
    from app.db import session_scope

    with session_scope(cfg) as session:
        load(session)


def _in_payment(session: Session, program):
    return session.execute(
        select(Benefit, Resident.birth_date).join(Resident, Resident.id == Benefit.resident_id)
        .where(Benefit.program == program.code, Benefit.state.in_(("active", "suspended")))).all()


def rule_amounts(session: Session, program, from_month: str) -> dict[str, tuple[str, int] | None]:
    """benefit id → what the program's rule, as the parameters stand now, gives it from `from_month`."""
    return {benefit.id: program.amount_for(benefit.tier, born, max(from_month, benefit.start_month))
            for benefit, born in _in_payment(session, program)}


def reprice(session: Session, program, from_month: str, approval_id: str,
            before: dict[str, tuple[str, int] | None] | None = None) -> int:
    """A `repriced` change from `from_month` for each benefit in payment whose amount changes then — only where
    this change moved what the rule gives it (`before`: `rule_amounts` without the change). A benefit paid an
    amount of its own (a legacy one of another tier, say) is not brought to the rule by an unrelated key's
    change: a new 90-99 amount cut an 80-89 legacy benefit's 300.00 to 50.00. Nor is one paid above what the rule
    gave it cut by a change of its own key: a new 80-89 amount of 60.00 does not cut a legacy 100.00 (it raises
    one paid 40.00)."""
    today = today_shanghai()
    this_month = f"{today:%Y-%m}"
    n = 0
    for benefit, born in _in_payment(session, program):
        month = max(from_month, benefit.start_month)
        owed = program.amount_for(benefit.tier, born, month)
        if owed is None or not owed[0] or (before is not None and before.get(benefit.id) == owed):
            continue
        tier, fen = owed
        old = _amount_before(session, benefit, month)
        ruled = before is None or (before.get(benefit.id) or ("", None))[1] == old[1]  # paid what the rule gave
        if fen == old[1] or (fen < old[1] and not ruled):
            continue
        session.add(BenefitChange(benefit_id=benefit.id, change_key=f"param:{approval_id}"[:40], kind="repriced",
                                  effective_month=month, old_tier=old[0], old_amount_fen=old[1], tier=tier,
                                  monthly_amount_fen=fen, reason="parameter_change", as_of=today,
                                  trace=[{"code": "parameter_change", "passed": True, "value": str(fen),
                                          "source": "parameters", "source_date": today.isoformat(),
                                          "text": f"补贴标准自{month}起调整"}]))
        if month <= this_month:  # what the benefit is paid now: its dated history read to this month, so a
            # later change (a tier raised since `month`) still stands on the record, as it does on the roll
            benefit.tier, benefit.monthly_amount_fen = _amount_before(session, benefit, this_month)
        n += 1
    session.flush()
    return n


def _amount_before(session: Session, benefit: Benefit, month: str) -> tuple[str, int]:
    """(tier, fen) of the benefit in `month` from its dated history (the changes added so far included)."""
    from flows.payroll import amount_in  # the payroll's reading of a benefit's dated history

    changes = session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == benefit.id)).all()
    return amount_in(benefit, list(changes), month)


def guide(program, today: date | None = None) -> dict:
    """The guide (办事指南) generated from the parameters: today's values and amounts, and each approved change
    still to come (announced) with its start month. Texts may name a parameter as {key}, or an amount of
    `guide_amounts` by its label ({标准})."""
    today = today or today_shanghai()
    on = max(today, program.start_date)
    scalars = {k: v.at(on) for k, v in program.parameters.items() if isinstance(v, Dated)
               and isinstance(v.at(on), (int, str))}
    amounts = program.guide_amounts(today) if program.guide_amounts is not None else {}
    scalars.update({label: text for label, text in amounts.items() if isinstance(text, str)})  # {标准} in a text

    def fill(text):
        try:
            return text.format(**scalars) if isinstance(text, str) else text
        except (KeyError, IndexError, ValueError):
            return text

    out = {k: ([fill(x) for x in v] if isinstance(v, list) else fill(v)) for k, v in program.guide.items()}
    if program.guide_amounts is not None:
        out["amounts"] = amounts
    announced = []
    for name, dated in program.parameters.items():
        if not isinstance(dated, Dated):
            continue
        for start, value in dated.changes:
            if start > today:
                entry = {"parameter": name, "from_month": f"{start:%Y-%m}"}
                if program.guide_amounts is not None:
                    entry["amounts"] = program.guide_amounts(start)
                if isinstance(value, (int, str)):
                    entry["value"] = str(value)
                announced.append(entry)
    out["announced"] = announced
    return out


def withdraw_pending(session: Session, approval: Approval, by: StaffMember) -> Approval:
    if approval.kind != KIND:
        raise Conflict("Not a parameter change.", error_code="approval_not_pending")
    return approvals.withdraw(session, approval, by)
