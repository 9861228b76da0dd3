"""`zerotrip params set|approve|withdraw|list` and `zerotrip approvals list|approve|withdraw`: maker-checker.

Every command that changes something names its person with `--by USER` and asks for her password (prompted
without echo; `ZEROTRIP_PASSWORD` for scripts and tests). A change is pending until a *different* admin
approves it; the maker may withdraw it until then. Bad input → exit 2 and nothing stored."""

from __future__ import annotations

import click

from app.cli.common import summary
from app.cli.signed import BY, PASSWORD, run_refusable, signed_in


@click.group("params")
def params_group() -> None:
    """Program parameters: propose a dated change, a second admin approves it."""


@params_group.command("set")
@click.argument("program")
@click.argument("key")
@click.argument("value")
@click.option("--from", "from_month", required=True, help="first month the value holds, YYYY-MM")
@click.option("--arrears", is_flag=True, help="allow a --from in a month whose roll is closed")
@BY
@PASSWORD
def params_set(program, key, value, from_month, arrears, by, password) -> None:
    """Propose PROGRAM's KEY = VALUE from a month (pending until another admin approves)."""
    from flows import parameters

    def work(session):
        staff = signed_in(session, by, password)
        if staff.role != "admin":
            from app.errors import Forbidden
            raise Forbidden("Parameter changes are proposed by an admin.", error_code="approval_role")
        a = parameters.propose_change(session, staff, program, key, value, from_month, arrears=arrears)
        return a.id, a.payload

    approval_id, payload = run_refusable(work)
    summary(approval=approval_id, state="pending", program=payload["program"], key=payload["key"],
            value=payload["raw"], **{"from": payload["from"]})


def _approve(approval_id: str, by: str, password: str) -> None:
    from flows import approvals

    def work(session):
        staff = signed_in(session, by, password)
        approval = approvals.approve(session, approvals.get(session, approval_id), staff)
        return approval.kind, approval.state

    kind, state = run_refusable(work)
    summary(approval=approval_id, kind=kind, state=state)


def _withdraw(approval_id: str, by: str, password: str) -> None:
    from flows import approvals

    def work(session):
        staff = signed_in(session, by, password)
        return approvals.withdraw(session, approvals.get(session, approval_id), staff).state

    summary(approval=approval_id, state=run_refusable(work))


def _list(state: str, kind: str | None) -> None:
    from flows import approvals

    def work(session):
        if kind is not None:
            approvals.kind_of(kind)  # an unknown kind is a mistake to say, not an empty list
        rows = approvals.listing(session, None if state == "all" else state, kind)
        for a in rows:
            click.echo(f"{a.id}  {a.kind}  {a.state}  maker={a.maker}  checker={a.checker or '-'}  "
                       f"{approvals.kind_of(a.kind).describe(a)}")
        return len(rows)

    summary(listed=run_refusable(work))


@params_group.command("approve")
@click.argument("approval_id")
@BY
@PASSWORD
def params_approve(approval_id, by, password) -> None:
    """Approve a pending change (not your own): it is applied at once."""
    _approve(approval_id, by, password)


@params_group.command("withdraw")
@click.argument("approval_id")
@BY
@PASSWORD
def params_withdraw(approval_id, by, password) -> None:
    """Withdraw your own pending change."""
    _withdraw(approval_id, by, password)


@params_group.command("list")
@click.option("--state", default="pending", type=click.Choice(["pending", "approved", "withdrawn", "all"]))
def params_list(state) -> None:
    """Parameter changes (pending by default)."""
    _list(state, "parameter_change")


@click.group("approvals")
def approvals_group() -> None:
    """Maker-checker approvals of every kind (parameter changes, payout grants, …)."""


@approvals_group.command("list")
@click.option("--state", default="pending", type=click.Choice(["pending", "approved", "withdrawn", "all"]))
@click.option("--kind", default=None)
def approvals_list(state, kind) -> None:
    """Approvals (pending by default)."""
    _list(state, kind)


@approvals_group.command("approve")
@click.argument("approval_id")
@BY
@PASSWORD
def approvals_approve(approval_id, by, password) -> None:
    """Approve a pending approval someone else made."""
    _approve(approval_id, by, password)


@approvals_group.command("withdraw")
@click.argument("approval_id")
@BY
@PASSWORD
def approvals_withdraw(approval_id, by, password) -> None:
    """Withdraw your own pending approval."""
    _withdraw(approval_id, by, password)
