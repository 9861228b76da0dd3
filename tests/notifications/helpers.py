"""Helpers shared by the notification tests."""

from __future__ import annotations


def proposal(session, app_row):
    """Enqueue the scan's message for an application and commit."""
    from notifications.outbox import enqueue

    row = enqueue(session, kind="proposal_ready", idempotency_key=f"application:{app_row.id}:proposal_ready",
                  resident_id=app_row.resident_id, application_id=app_row.id)
    session.commit()
    return row


def grant(session, wechat, acc, kind="proposal_ready", status="accept"):
    """The user accepted the pop-up: the mock's counter and ours both get +1."""
    from notifications import subscriptions
    from notifications.templates import template_for

    template = template_for(kind)
    wechat.grant(acc.openid, template.id, status)
    subscriptions.record_popup(session, acc.id, template, status)
    session.commit()
    return template


def outbox_row(session, row_id):
    from app.models import OutboxMessage

    session.expire_all()
    return session.get(OutboxMessage, row_id)
