"""The in-app inbox: every message becomes an item, whatever the external channels did.

An item is tied to a resident (`recipient_key` "resident:<id>": the resident reads it once an account is
bound to her, even if the message was written before she had one) or to an account ("account:<id>": a
message about the account itself, or a copy for a proxy). (outbox_id, recipient_key) is unique, so a
re-run never duplicates an item.
"""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import Account, InboxItem, OutboxMessage
from app.models.ids import new_id
from app.sql import insert_ignore
from notifications.templates import action_for


def recipient_key(*, resident_id: int | None = None, account_id: str | None = None) -> str:
    return f"resident:{resident_id}" if resident_id is not None else f"account:{account_id}"


def ensure_item(session: Session, *, outbox_id: str, kind: str, title: str, body: str,
                application_id: str | None, resident_id: int | None = None,
                account_id: str | None = None) -> InboxItem:
    """Create the item for (outbox row, recipient) unless it exists (in the caller's transaction)."""
    key = recipient_key(resident_id=resident_id, account_id=account_id)
    existing = session.execute(
        select(InboxItem).where(InboxItem.outbox_id == outbox_id, InboxItem.recipient_key == key)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    session.execute(insert_ignore(session, InboxItem.__table__).values(
        id=new_id(), outbox_id=outbox_id, kind=kind, title=title[:120], body=body, application_id=application_id,
        resident_id=resident_id, account_id=None if resident_id is not None else account_id,
        recipient_key=key, created_at=utcnow()))
    return session.execute(
        select(InboxItem).where(InboxItem.outbox_id == outbox_id, InboxItem.recipient_key == key)
    ).scalar_one()


def _visible(account: Account):
    conds = [InboxItem.account_id == account.id]
    if account.resident_id is not None:
        conds.append(InboxItem.resident_id == account.resident_id)
    return or_(*conds)


def items_for(session: Session, account: Account):
    """A select of the items the account may read, newest first."""
    return select(InboxItem).where(_visible(account)).order_by(InboxItem.created_at.desc(), InboxItem.id.desc())


def mark_read(session: Session, account: Account, item_id: str) -> InboxItem | None:
    """Mark one of the account's items read (idempotent); None if it is not the account's item."""
    item = session.execute(select(InboxItem).where(InboxItem.id == item_id, _visible(account))).scalar_one_or_none()
    if item is None:
        return None
    if item.read_at is None:
        session.execute(update(InboxItem).where(InboxItem.id == item.id, InboxItem.read_at.is_(None))
                        .values(read_at=utcnow()).execution_options(synchronize_session=False))
        session.refresh(item)
    return item


ACTION_KINDS = ("proxy_granted",)


def actions_for(session: Session, items) -> dict[str, dict]:
    """item id → its one-tap action (e.g. revoke a new proxy), built from the outbox row's data. Only the
    resident's own item carries one (a copy addressed to an account does not)."""
    wanted = {i.outbox_id: i for i in items if i.kind in ACTION_KINDS and i.resident_id is not None}
    if not wanted:
        return {}
    rows = session.execute(select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.data)
                           .where(OutboxMessage.id.in_(list(wanted)))).all()
    out = {}
    for outbox_id, kind, data in rows:
        action = action_for(kind, data)
        if action is not None:
            out[wanted[outbox_id].id] = action
    return out
