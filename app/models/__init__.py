"""ORM models: columns and relationships only, no behaviour. One module per area."""

from app.models.account import Account, AuthSession, BindAttempt, RefreshToken
from app.models.application import Application, Benefit, ScanRun, StaffTask
from app.models.audit import AuditEvent, AuditHead, AuditSubject
from app.models.binding import IdentityBinding
from app.models.jobs import JobLock
from app.models.keys import KeyRotation
from app.models.messaging import InboxItem, OutboxMessage, Subscription, WechatToken
from app.models.notification_extra import NotificationPref
from app.models.programs_extra import (
    BenefitChange,
    DeathRecord,
    DisabilityCertificate,
    EconomicRecord,
    HukouMove,
    Objection,
    PayoutAccount,
    PayrollLine,
    PayrollRun,
    PublicNotice,
    RateHit,
    StepDeadline,
)
from app.models.proxy import ProxyGrant, ProxyInvitation, ProxyRequest, ProxyRequestQuota
from app.models.resident import ImportBatch, Resident
from app.models.staff import StaffMember

__all__ = [
    "BenefitChange",
    "DeathRecord",
    "DisabilityCertificate",
    "EconomicRecord",
    "HukouMove",
    "KeyRotation",
    "Objection",
    "PayoutAccount",
    "PayrollLine",
    "PayrollRun",
    "PublicNotice",
    "RateHit",
    "StepDeadline",
    "Account",
    "Application",
    "AuditEvent",
    "AuditHead",
    "AuditSubject",
    "IdentityBinding",
    "AuthSession",
    "Benefit",
    "BindAttempt",
    "ImportBatch",
    "InboxItem",
    "JobLock",
    "NotificationPref",
    "OutboxMessage",
    "ProxyGrant",
    "ProxyInvitation",
    "ProxyRequest",
    "ProxyRequestQuota",
    "RefreshToken",
    "Resident",
    "ScanRun",
    "StaffMember",
    "StaffTask",
    "Subscription",
    "WechatToken",
]
from app.models.rating import ServiceRating  # noqa: E402

__all__ += ["ServiceRating"]
from app.models.proof import BenefitProof  # noqa: E402

__all__ += ["BenefitProof"]

from app.models.exchange import ExchangeClient, ExchangeKey, ExchangeMessage, ExchangeRecord  # noqa: E402

__all__ += ["ExchangeClient", "ExchangeKey", "ExchangeMessage", "ExchangeRecord"]

from app.models.approval import Approval, ParameterValue  # noqa: E402

__all__ += ["Approval", "ParameterValue"]

from app.models.exchange_subs import (  # noqa: E402
    ExchangeCallback,
    ExchangeCursor,
    ExchangePublished,
    ExchangeSubscription,
    ExchangeSubscriptionPerson,
)

__all__ += ["ExchangeCallback", "ExchangeCursor", "ExchangePublished", "ExchangeSubscription",
            "ExchangeSubscriptionPerson"]
from app.models.areas import Area  # noqa: E402

__all__ += ["Area"]
from app.models.applicant import ApplicationApplicant, OneOffPayment  # noqa: E402
from app.models.cremation import CremationRecord  # noqa: E402

__all__ += ["ApplicationApplicant", "CremationRecord", "OneOffPayment"]
from app.models.care_assessment import CareAssessment  # noqa: E402

__all__ += ["CareAssessment"]

from app.models.appeal import Appeal  # noqa: E402

__all__ += ["Appeal"]

from app.models.home_visit import HomeVisit, VisitFile  # noqa: E402

__all__ += ["HomeVisit", "VisitFile"]
from app.models.counter import CounterVisit  # noqa: E402

__all__ += ["CounterVisit"]
from app.models.partitions import ArchivedPartition, UniqueKey  # noqa: E402

__all__ += ["ArchivedPartition", "UniqueKey"]
from app.models.letter import LetterDelivery  # noqa: E402

__all__ += ["LetterDelivery"]
