"""`zerotrip programs trigger|approve|withdraw`: grants an operator starts for everyone counted (no application,
no confirmation), e.g. the price subsidy. The trigger is a pending maker-checker approval (flows.approvals)
until a second admin approves it. `--by USER` and the password as in `zerotrip params` (ZEROTRIP_PASSWORD).
Refusals (a second trigger for the same month, a self-approval, bad input) → exit 2 and nothing stored."""

from __future__ import annotations

import click

from app.cli.common import summary
from app.cli.signed import BY, PASSWORD, run_refusable, signed_in


@click.group("programs")
def programs_group() -> None:
    """Programs started by an operator: trigger, a second admin approves, withdraw before the roll closes."""


@programs_group.command("trigger")
@click.argument("program")
@click.option("--index-month", required=True, help="the month whose price index triggered it, YYYY-MM")
@click.option("--amount-per-person", required=True, help="amount per person (yuan, e.g. 30.00)")
@click.option("--amount-rural", default=None, help="amount per person for rural hukou (default: the same)")
@BY
@PASSWORD
def programs_trigger(program, index_month, amount_per_person, amount_rural, by, password) -> None:
    """Trigger PROGRAM for an index month (pending until another admin approves)."""
    from app.errors import NotFound
    from flows import programs

    def work(session):
        staff = signed_in(session, by, password)
        found = programs.get(program)
        if found is None or not found.trigger:
            raise NotFound(f"No program {program[:40]!r} is started by a trigger.")
        a = found.hook("trigger")(session, staff, {"index_month": index_month,
                                                   "amount_per_person": amount_per_person,
                                                   "amount_rural": amount_rural})
        return a.id, a.payload

    approval_id, payload = run_refusable(work)
    summary(approval=approval_id, state="pending", program=program, index_month=payload["index_month"])


@programs_group.command("approve")
@click.argument("approval_id")
@BY
@PASSWORD
def programs_approve(approval_id, by, password) -> None:
    """Approve a pending trigger (not your own): paid in the first roll closed after."""
    from flows import approvals

    def work(session):
        staff = signed_in(session, by, password)
        a = approvals.approve(session, approvals.get(session, approval_id), staff)
        return a.state, a.payload

    state, payload = run_refusable(work)
    summary(approval=approval_id, state=state, households=payload.get("households", 0),
            persons=payload.get("persons", 0))


@programs_group.command("withdraw")
@click.argument("approval_id")
@BY
@PASSWORD
def programs_withdraw(approval_id, by, password) -> None:
    """Withdraw a trigger: pending (its maker), or approved before its roll closed (an admin)."""
    from flows import approvals
    from flows.programs import PROGRAMS

    def work(session):
        staff = signed_in(session, by, password)
        approval = approvals.get(session, approval_id)
        # a trigger's approval kind is "<program code>_trigger" (flows.programs.base.Program.trigger)
        program = PROGRAMS.get(approval.kind.removesuffix("_trigger"))
        withdraw = program.hook("withdraw_trigger") if program else None
        if withdraw is None:
            return approvals.withdraw(session, approval, staff).state
        return withdraw(session, approval, staff).state

    summary(approval=approval_id, state=run_refusable(work))
