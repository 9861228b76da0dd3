"""`zerotrip staff add|set-id|disable|list`: staff accounts (the first admin is created here).

A staff member's own ID number (`--id-number`, prompted without echo; or `ZEROTRIP_STAFF_ID_NUMBER`) is
validated and stored like residents' (keyed hash, ciphertext, mask). Without it she can sign in and work
her queues but records and approves no proxy grants (403 `staff_id_number_missing`) until `staff set-id`."""

from __future__ import annotations

import click
from sqlalchemy import select

from app.authz import ROLES
from app.cli.common import EXIT_BAD_INPUT, ready_config, summary
from app.db import session_scope
from app.errors import DomainError


@click.group("staff")
def staff_group() -> None:
    """Staff accounts: role (clerk/community_worker/reviewer/approver/supervisor/admin) and jurisdiction (district → street → community)."""


@staff_group.command("add")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
@click.option("--district", required=True, help="6-digit district code")
@click.option("--street", default=None, help="9-digit street code (optional)")
@click.option("--community", default=None, help="12-digit community code (optional)")
@click.option("--name", "display_name", default="", help="display name")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="ZEROTRIP_STAFF_PASSWORD", help="at least 12 characters (prompted if not given)")
@click.option("--id-number", prompt="ID number (公民身份号码; empty: set it later with `staff set-id`)",
              hide_input=True, default="", show_default=False, envvar="ZEROTRIP_STAFF_ID_NUMBER",
              help="the staff member's own ID number (prompted without echo if not given)")
@click.option("--must-change-password", is_flag=True, default=False,
              help="a temporary password: the first sign-in at /staff/ must change it")
def staff_add(username, role, district, street, community, display_name, password, id_number,
              must_change_password) -> None:
    """Create a staff member."""
    from app.audit import record
    from app.crypto import cipher_for
    from flows.staff import create_staff

    cfg = ready_config()
    try:
        with session_scope(cfg) as session:
            staff = create_staff(session, username=username, password=password, role=role, district=district,
                                 street=street, community=community, display_name=display_name,
                                 id_number=id_number.strip() or None, cipher=cipher_for(cfg))
            staff.must_change_password = must_change_password
            record(session, actor="cli", action="staff.add", object_ref=f"staff:{staff.id}",
                   details={"role": role, "district": district, "street": street, "community": community,
                            "id_number_set": staff.id_hash is not None})
            staff_id, has_id = staff.id, staff.id_hash is not None
    except DomainError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        raise SystemExit(EXIT_BAD_INPUT) from None
    if not has_id:
        click.echo("warning: no ID number on file: this staff member records and approves no proxy grants "
                   "until `zerotrip staff set-id`", err=True)
    summary(added=1, staff_id=staff_id, role=role, id_number_set=str(has_id).lower())


@staff_group.command("set-id")
@click.argument("username")
@click.option("--id-number", prompt="ID number (公民身份号码)", hide_input=True, envvar="ZEROTRIP_STAFF_ID_NUMBER",
              help="the staff member's own ID number (prompted without echo if not given)")
def staff_set_id(username, id_number) -> None:
    """Set (or correct) an existing staff member's own ID number."""
    from app.audit import record
    from app.crypto import cipher_for
    from app.models import StaffMember
    from flows.staff import set_id_number

    cfg = ready_config()
    try:
        with session_scope(cfg) as session:
            staff = session.execute(select(StaffMember).where(StaffMember.username == username)).scalar()
            if staff is None:
                click.echo("Error: no such staff member", err=True)
                raise SystemExit(EXIT_BAD_INPUT)
            set_id_number(session, cipher_for(cfg), staff, id_number)
            record(session, actor="cli", action="staff.set_id", object_ref=f"staff:{staff.id}",
                   details={"id_number_masked": staff.id_mask, "in_registry": staff.resident_id is not None})
            staff_id = staff.id
    except DomainError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        raise SystemExit(EXIT_BAD_INPUT) from None
    summary(id_number_set=1, staff_id=staff_id)


@staff_group.command("disable")
@click.argument("username")
def staff_disable(username) -> None:
    """Disable a staff login at once (its sessions end)."""
    from app.audit import record
    from app.models import StaffMember
    from flows.staff import disable

    cfg = ready_config()
    with session_scope(cfg) as session:
        staff = session.execute(select(StaffMember).where(StaffMember.username == username)).scalar()
        if staff is None:
            click.echo("Error: no such staff member", err=True)
            raise SystemExit(EXIT_BAD_INPUT)
        ended = disable(session, staff)
        record(session, actor="cli", action="staff.disable", object_ref=f"staff:{staff.id}")
    summary(disabled=1, sessions_ended=ended)


@staff_group.command("list")
def staff_list() -> None:
    """List staff members."""
    from app.models import Account, StaffMember

    cfg = ready_config()
    with session_scope(cfg) as session:
        rows = session.execute(select(StaffMember, Account).join(Account, Account.id == StaffMember.account_id)
                               .order_by(StaffMember.username)).all()
        for staff, account in rows:
            where = staff.community_code or staff.street_code or staff.district_code
            state = "disabled" if account.disabled_at else "active"
            click.echo(f"{staff.username}\t{staff.role}\t{where}\t{state}")
    summary(staff=len(rows))


def register(cli) -> None:
    cli.add_command(staff_group)
