"""ORM models: columns and relationships only, no behaviour. One module per area."""

from app.models.account import Account, AuthSession, BindAttempt, RefreshToken
from app.models.application import Application, Benefit, ScanRun, StaffTask
from app.models.jobs import JobLock
from app.models.messaging import InboxItem, OutboxMessage, Subscription, WechatToken
from app.models.resident import ImportBatch, Resident

__all__ = [
    "Account",
    "Application",
    "AuthSession",
    "Benefit",
    "BindAttempt",
    "ImportBatch",
    "InboxItem",
    "JobLock",
    "OutboxMessage",
    "RefreshToken",
    "Resident",
    "ScanRun",
    "StaffTask",
    "Subscription",
    "WechatToken",
]
