"""Who a message reaches: the account (an account-addressed message, or the resident's bound account),
the phone on file, and proxies whose grant has the `receive_messages` scope."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app.authz import proxy_grants_in_force
from app.crypto import cipher_for
from app.db import utcnow
from app.models import Account, Application, NotificationPref, Resident, StaffTask
from app.models.ids import new_id
from app.sql import insert_ignore
from notifications.channels.sms import usable_phone

RECEIVE_MESSAGES = "receive_messages"


@dataclass
class Target:
    account: Account | None
    resident_id: int | None  # set when the message is addressed to a resident (inbox tied to her)
    phone: str | None = None
    proxies: list[str] = field(default_factory=list)
    deceased: bool = False  # the resident died: her own account and phone are never used


def _phone_of(session, cfg, resident_id: int | None) -> str | None:
    if resident_id is None:
        return None
    resident = session.get(Resident, resident_id)
    if resident is None or resident.phone_enc is None or resident.death_date is not None:
        return None
    try:
        return usable_phone(cipher_for(cfg).decrypt(resident.phone_enc))
    except Exception:  # noqa: BLE001 - an undecryptable phone is no phone
        return None


def resolve(session, cfg, row) -> Target:
    """account_id wins (the message is about the account); else the resident (directly or via the
    application) and the account bound to her, if any."""
    if row.account_id:
        account = session.get(Account, row.account_id)
        if account is not None and account.disabled_at is not None:
            account = None
        return Target(account, None, _phone_of(session, cfg, account.resident_id if account else None))
    resident_id = row.resident_id
    if resident_id is None and row.application_id:
        app_row = session.get(Application, row.application_id)
        resident_id = app_row.resident_id if app_row else None
    if resident_id is None:
        return Target(None, None)
    resident = session.get(Resident, resident_id)
    if resident is not None and resident.death_date is not None:
        return Target(None, resident_id, None, deceased=True)
    account = session.execute(select(Account).where(Account.resident_id == resident_id,
                                                    Account.disabled_at.is_(None))).scalar_one_or_none()
    return Target(account, resident_id, _phone_of(session, cfg, resident_id))


def proxy_accounts(session, resident_id: int) -> list[str]:
    """Account ids of proxies whose grant from `resident_id` is in force and includes the `receive_messages`
    scope. The same rule as authorization (app.authz.proxy_grants_in_force): a grant reaches only the account
    bound to the proxy person now — none while she is unbound."""
    return sorted({account_id for grant, account_id in proxy_grants_in_force(session, principal_id=resident_id)
                   if RECEIVE_MESSAGES in (grant.scopes or [])})


def family_accounts(session, resident_id: int) -> list[str]:
    """Who is told about a deceased resident: her proxies with `receive_messages`; if she has none, the
    living members of her registry household (same `household_id`) who have a bound, enabled account.
    Never her own account."""
    proxies = proxy_accounts(session, resident_id)
    resident = session.get(Resident, resident_id)
    own = set(session.execute(select(Account.id).where(Account.resident_id == resident_id)).scalars())
    if proxies:
        return [a for a in proxies if a not in own]
    if resident is None or not resident.household_id:
        return []
    rows = session.execute(
        select(Account.id).join(Resident, Resident.id == Account.resident_id)
        .where(Resident.household_id == resident.household_id, Resident.id != resident_id,
               Resident.death_date.is_(None), Account.disabled_at.is_(None))).scalars()
    return sorted(set(rows) - own)


def proxy_mode(session, resident_id: int) -> str:
    pref = session.get(NotificationPref, resident_id)
    return pref.proxy_mode if pref else "also"


def community_task(session, row, resident_id: int) -> None:
    """A resident with no account, no phone and no proxy: a community worker tells her (once per message)."""
    resident = session.get(Resident, resident_id)
    session.execute(insert_ignore(session, StaffTask.__table__).values(
        id=new_id(), kind="notify_resident", state="open",
        resident_id=resident_id, application_id=row.application_id,
        district_code=resident.district_code if resident else None,
        street_code=resident.street_code if resident else None,
        community_code=resident.community_code if resident else None,
        details={"outbox_id": row.id, "message_kind": row.kind}, dedupe_key=f"notify:{row.id}",
        created_at=utcnow()))
