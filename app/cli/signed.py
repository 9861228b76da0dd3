"""Commands a named person runs (`--by USER`, her password prompted without echo or from `ZEROTRIP_PASSWORD`):
the maker-checker commands (params, approvals, programs, payroll sign-off/release, death corrections)."""

from __future__ import annotations

import click

from app.cli.common import EXIT_BAD_INPUT, ready_config
from app.db import session_scope
from app.errors import DomainError

BY = click.option("--by", "by", required=True, help="your staff username")
PASSWORD = click.option("--password", prompt=True, hide_input=True, envvar="ZEROTRIP_PASSWORD",
                        help="your password (prompted if not given; ZEROTRIP_PASSWORD)")


def signed_in(session, username: str, password: str):
    """The staff member `username`, signed in with `password` (the staff login's lock-out applies)."""
    from app.errors import Unauthorized
    from flows.staff import login

    try:
        staff, outcome = login(session, username, password)
    except Unauthorized:  # no such user: the same words as a wrong password (no list of usernames by trying)
        staff, outcome = None, "unknown"
    session.commit()  # the sign-in (its lock-out counter) stands whatever becomes of the change
    if outcome != "ok":
        raise Unauthorized("Wrong username or password, or the account is locked or disabled.")
    return staff


def run_refusable(work, cfg=None):
    """Run `work(session)` in one transaction; a refusal → its message on stderr and exit 2."""
    cfg = cfg or ready_config()
    try:
        with session_scope(cfg) as session:
            return work(session)
    except DomainError as exc:
        code = f" ({exc.error_code})" if getattr(exc, "error_code", None) else ""
        click.echo(f"Error{code}: {exc.message}", err=True)
        raise SystemExit(EXIT_BAD_INPUT) from None
