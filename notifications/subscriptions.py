"""The backend's own count of subscribe-message grants per (account, template).

WeChat has no API to read the remaining count, so we keep it (design/wechat-api.md §3.2):
- one-time template: each accepted pop-up adds 1 (`record_popup(..., "accept")`), each send spends 1;
- long-term template (政务民生): one acceptance allows every later send until a refusal;
- `reject` / `ban` (pop-up), a `subscribe_msg_change_event` reject, or WeChat's 43101 mark the row
  refused (status `reject`/`ban`, remaining 0) so we stop trying and the app shows a one-tap
  "turn on notifications" prompt; a later `accept` clears it.

A send *reserves* one grant (an atomic `remaining = remaining - 1 WHERE remaining > 0`) in the same
transaction that marks the outbox row in flight; a failed call refunds it in the transaction that records
the failure. So concurrent dispatchers never spend one grant twice, and a retry spends nothing extra.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import Subscription
from app.sql import insert_ignore
from notifications.templates import Template

STATUSES = ("accept", "reject", "ban", "filter")
REFUSED = ("reject", "ban")


def _get(session: Session, account_id: str, template_id: str) -> Subscription | None:
    return session.execute(
        select(Subscription).where(Subscription.account_id == account_id, Subscription.template_id == template_id)
    ).scalar_one_or_none()


def _get_or_create(session: Session, account_id: str, template_id: str, status: str) -> Subscription:
    row = _get(session, account_id, template_id)
    if row is not None:
        return row
    session.execute(insert_ignore(session, Subscription.__table__).values(
        account_id=account_id, template_id=template_id, status=status, remaining=0, updated_at=utcnow()))
    return _get(session, account_id, template_id)


def record_popup(session: Session, account_id: str, template: Template, status: str, source: str = "app") -> None:
    """One pop-up result (or an event push): accept → +1 (one-time) / on (long-term); reject/ban → refused."""
    if status == "filter":
        return
    row = _get_or_create(session, account_id, template.id, status)
    now = utcnow()
    if status == "accept":
        values = {"status": "accept", "updated_at": now, "last_error": None}
        if not template.long_term:
            values["remaining"] = Subscription.remaining + 1
        session.execute(update(Subscription).where(Subscription.id == row.id).values(**values))
    elif status in REFUSED:
        session.execute(update(Subscription).where(Subscription.id == row.id)
                        .values(status=status, remaining=0, updated_at=now, last_error=f"{source}:{status}"))
    session.expire(row)


def reserve(session: Session, account_id: str, template: Template) -> bool:
    """Take one grant for a send (in the caller's transaction). False: no quota or refused."""
    if template.long_term:
        row = _get(session, account_id, template.id)
        return row is not None and row.status == "accept"
    spent = session.execute(
        update(Subscription)
        .where(Subscription.account_id == account_id, Subscription.template_id == template.id,
               Subscription.status == "accept", Subscription.remaining > 0)
        .values(remaining=Subscription.remaining - 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    return spent == 1


def refund(session: Session, account_id: str, template: Template) -> None:
    """Give back a reserved grant after a call that WeChat did not carry out."""
    if template.long_term:
        return
    session.execute(
        update(Subscription)
        .where(Subscription.account_id == account_id, Subscription.template_id == template.id,
               Subscription.status == "accept")
        .values(remaining=Subscription.remaining + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def mark_refused_by_wechat(session: Session, account_id: str, template: Template, refused: bool = True) -> None:
    """WeChat answered 43101: our count was wrong or the user unsubscribed. Zero it; long-term → refused
    (unless `refused` is False: the grant was spent by an earlier attempt that timed out)."""
    values = {"remaining": 0, "updated_at": utcnow(), "last_error": "wechat:43101"}
    if template.long_term and refused:
        values["status"] = "reject"
    row = _get_or_create(session, account_id, template.id, "reject")
    session.execute(update(Subscription).where(Subscription.id == row.id).values(**values)
                    .execution_options(synchronize_session=False))


@dataclass
class QuotaView:
    template: Template
    status: str | None
    remaining: int | None  # one-time: grants left; long-term: None (unlimited while accepted, else 0)

    @property
    def needs_prompt(self) -> bool:
        if self.template.long_term:
            return self.status != "accept"
        return not self.remaining


def quota_for(session: Session, account_id: str, templates: list[Template]) -> list[QuotaView]:
    rows = {
        r.template_id: r
        for r in session.execute(select(Subscription).where(Subscription.account_id == account_id)).scalars()
    }
    out = []
    for t in templates:
        row = rows.get(t.id)
        status = row.status if row else None
        if t.long_term:
            remaining = None if status == "accept" else 0
        else:
            remaining = row.remaining if row and row.status == "accept" else 0
        out.append(QuotaView(t, status, remaining))
    return out
