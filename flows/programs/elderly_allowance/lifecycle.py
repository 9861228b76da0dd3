"""The elderly allowance's own daily step (Program.daily): the tier rises at 90 and 100 from the month after
the birthday, with no confirmation (set-based; a benefit change and an outbox row each)."""

from __future__ import annotations

from datetime import date

from app.db import utcnow
from app.sql import Dialect, at_least, nth_birthday_next_month, stmt
from flows.dates import birth_cutoff
from flows.lifecycle.jobs import _change_insert, _outbox_from_changes, _registry_trace
from flows.programs import elderly_allowance as program


def raise_tiers(conn, d: Dialect, as_of: date) -> dict:
    """Raise the elderly-allowance tier at 90 and 100 from the month after the birthday; no confirmation."""
    on = max(as_of, program.PARAMETERS["start_date"])
    tiers = sorted(program.PARAMETERS["tiers"].at(on))  # lowest age first
    start = program.PARAMETERS["start_date"]
    counts = {}
    for i, (age, label, fen) in enumerate(tiers):
        if i == 0:
            continue
        at_or_above = ", ".join(f"'{t[1]}'" for t in tiers[i:])
        params = {"as_of": as_of, "now": utcnow(), "cut": birth_cutoff(as_of, age), "label": label, "fen": fen,
                  "start_idx": start.year * 12 + start.month - 1}
        head, tail = _change_insert(d)
        trace = _registry_trace(d, "age", f"'{age}'", {"birth_date": d.date_text("r.birth_date"),
                                                        "passed": d.json_text("true")})
        eff = d.month_text(at_least(nth_birthday_next_month(d, age)))
        where = (f"b.program = '{program.CODE}' AND b.state = 'active' AND b.tier NOT IN ({at_or_above}) "
                 "AND r.birth_date <= :cut")
        n = conn.execute(stmt(
            head + f"SELECT {d.new_id()}, b.id, 'tier\\:' || :label, 'tier_raised', {eff}, b.tier, "
            f"b.monthly_amount_fen, :label, :fen, 'age', :as_of, {trace}, :now "
            f"FROM benefits b JOIN residents r ON r.id = b.resident_id WHERE {where}" + tail, params), params).rowcount
        conn.execute(stmt(_outbox_from_changes(
            d, "tier_raised", "'tier_raised\\:' || c.tier",
            {"program": "b.program", "tier": "c.tier", "monthly_amount": f"'{fen // 100}.{fen % 100:02d}'",
             "effective_month": "c.effective_month"},
            "c.kind = 'tier_raised' AND c.tier = :label"), params), params)
        conn.execute(stmt(
            "UPDATE benefits SET tier = :label, monthly_amount_fen = :fen, updated_at = :now "
            f"WHERE program = '{program.CODE}' AND state = 'active' AND tier NOT IN ({at_or_above}) "
            "AND id IN (SELECT benefit_id FROM benefit_changes WHERE change_key = 'tier:' || :label)",
            params), params)
        counts[f"tier_raised_{age}"] = max(n, 0)
    return counts
