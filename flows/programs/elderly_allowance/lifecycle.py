"""The elderly allowance's own daily step (Program.daily): the tier rises at 90 and 100 from the month after
the birthday, with no confirmation (set-based; a benefit change and an outbox row each)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Integer, String, literal, select, update

from app.db import utcnow
from app.models import Benefit, BenefitChange, Resident
from app.sql import Dialect, alias_of, at_least_of, date_text_of, month_text_of, nth_birthday_next_month_of
from flows.dates import birth_cutoff
from flows.lifecycle.jobs import change_insert, change_row, json_constant, outbox_from_changes, registry_trace
from flows.programs import elderly_allowance as program

_B, _R, _C = Benefit.__table__, Resident.__table__, BenefitChange.__table__


def raise_tiers(conn, d: Dialect, as_of: date) -> dict:
    """Raise the elderly-allowance tier at 90 and 100 from the month after the birthday; no confirmation. Only a
    raise: a benefit already paid at least the new tier's amount (a legacy one paid an amount of its own, say)
    keeps its amount and gets no message."""
    on = max(as_of, program.PARAMETERS["start_date"])
    tiers = sorted(program.PARAMETERS["tiers"].at(on))  # lowest age first
    start = program.PARAMETERS["start_date"]
    start_idx = start.year * 12 + start.month - 1
    counts = {}
    for i, (age, label, fen) in enumerate(tiers):
        if i == 0:
            continue
        at_or_above = [t[1] for t in tiers[i:]]
        now, cut = utcnow(), birth_cutoff(as_of, age)
        b, r = alias_of(_B, "b"), alias_of(_R, "r")
        trace = registry_trace(d, r, "age", literal(str(age), String),
                               {"birth_date": date_text_of(d, r.c.birth_date), "passed": json_constant(d, "true")})
        effective = month_text_of(d, at_least_of(nth_birthday_next_month_of(d, age, r.c.birth_date),
                                                 literal(start_idx, Integer)))
        rows = (change_row(d, b, key=literal(f"tier:{label}", String), kind="tier_raised", effective=effective,
                           tier=literal(label, String), amount=literal(fen, Integer), reason="age", as_of=as_of,
                           trace=trace, now=now)
                .select_from(b.join(r, r.c.id == b.c.resident_id))
                .where(b.c.program == program.CODE, b.c.state == "active", b.c.tier.not_in(at_or_above),
                       b.c.monthly_amount_fen < fen, r.c.birth_date <= cut))
        n = conn.execute(change_insert(d, rows)).rowcount
        conn.execute(outbox_from_changes(
            d, "tier_raised", lambda c: literal("tier_raised:", String) + c.c.tier,
            lambda b, c, fen=fen: {"program": b.c.program, "tier": c.c.tier,
                                   "monthly_amount": literal(f"{fen // 100}.{fen % 100:02d}", String),
                                   "effective_month": c.c.effective_month},
            lambda c, label=label: (c.c.kind == "tier_raised", c.c.tier == label), as_of=as_of, now=now))
        conn.execute(update(_B).where(_B.c.program == program.CODE, _B.c.state == "active",
                                      _B.c.tier.not_in(at_or_above),
                                      _B.c.id.in_(select(_C.c.benefit_id).where(_C.c.change_key == f"tier:{label}")))
                     .values(tier=label, monthly_amount_fen=fen, updated_at=now))
        counts[f"tier_raised_{age}"] = max(n, 0)
    return counts
