"""Requests by family members to become someone's proxy (亲情代办申请), built so that they are neither an
existence oracle nor a spam channel.

- Every request writes the same rows whatever matched: one `proxy_requests` row (the target is null when the
  name and ID number match nobody) and one audit event; the requester sees it as `pending` until the target
  accepts (`active`) or 7 days pass (`expired`). A match also leaves a `requested` grant for the target to
  confirm or decline (never shown to the requester) and the message to her; an unmatched request runs the same
  reads, so both take comparable time.
- At most 5 requests per requester (person) per Shanghai day: a conditional UPDATE on one counter row
  (`used < 5`), atomic across processes; the sixth → 429.
- One open request per (requester, ID number): a unique key (`open_key`), inserted with ON CONFLICT DO
  NOTHING; a second → 409 `proxy_request_open`.
- A target gets at most 3 request messages in any 30 days from everyone together (the last three message
  times on one row, replaced by a conditional UPDATE), and none from a requester she declined or ignored (an
  earlier request from that person that she declined or let expire).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from app import security_log
from app.authz import DEFAULT_SCOPES
from app.clock import clock_now
from app.crypto import cipher_for
from app.db import utcnow
from app.errors import Conflict, TooManyAttempts, Unprocessable
from app.idnumbers import InvalidIdNumber, validate
from app.masking import mask_name
from app.models import Account, ProxyGrant, ProxyRequest, ProxyRequestQuota, Resident
from app.models.ids import new_id
from app.sql import insert_ignore
from flows.dates import today_shanghai
from notifications.outbox import enqueue

REQUEST_TTL = timedelta(days=7)
REQUESTS_PER_DAY = 5
TARGET_MESSAGES, TARGET_WINDOW = 3, timedelta(days=30)
SHANGHAI = timedelta(hours=8)


class RequestAlreadyOpen(Conflict):
    code_name = "proxy_request_open"

    def __init__(self):
        super().__init__("You already have an open request for this ID number; it stays pending for 7 days.",
                         error_code="proxy_request_open")


def _take_daily_slot(session: Session, account: Account, address: str | None) -> None:
    day = today_shanghai()
    key = f"requester:{account.resident_id}:{day.isoformat()}"
    table = ProxyRequestQuota.__table__
    session.execute(insert_ignore(session, table).values(key=key, used=0))
    taken = session.execute(update(table).where(table.c.key == key, table.c.used < REQUESTS_PER_DAY)
                            .values(used=table.c.used + 1)).rowcount
    if not taken:
        security_log.refused("proxy_request_daily_limit", actor=f"account:{account.id}", address=address,
                             result="429", limit=REQUESTS_PER_DAY)
        midnight = datetime.combine(day + timedelta(days=1), time()) - SHANGHAI
        raise TooManyAttempts(f"At most {REQUESTS_PER_DAY} proxy requests a day; try again tomorrow.",
                              int((midnight - utcnow()).total_seconds()) + 1)


def _take_target_message(session: Session, target_id: int, now: datetime) -> bool:
    """One of the target's 3 request messages in any 30 days (sliding): atomic conditional UPDATE."""
    key = f"target:{target_id}"
    table = ProxyRequestQuota.__table__
    session.execute(insert_ignore(session, table).values(key=key, used=0))
    return bool(session.execute(
        update(table).where(table.c.key == key, or_(table.c.t1.is_(None), table.c.t1 <= now - TARGET_WINDOW))
        .values(t1=table.c.t2, t2=table.c.t3, t3=now, used=table.c.used + 1)).rowcount)


def _turned_down_before(session: Session, requester_id: int, target_id: int, now: datetime, this_id: str) -> bool:
    """An earlier request from this person to the target that she declined or ignored (let expire). One its
    requester withdrew was not ignored; one she had declined stays declined (a withdrawal keeps a declined
    grant as it is: declining cannot be undone by withdrawing and asking again)."""
    query = (select(ProxyRequest.id).outerjoin(ProxyGrant, ProxyGrant.id == ProxyRequest.grant_id)
             .where(ProxyRequest.requester_resident_id == requester_id, ProxyRequest.target_resident_id == target_id,
                    ProxyRequest.id != this_id, ProxyGrant.activated_at.is_(None),
                    or_(ProxyGrant.status == "declined",
                        and_(ProxyRequest.expires_at <= now, ProxyRequest.withdrawn_at.is_(None)))).limit(1))
    return session.execute(query).first() is not None


def _close_stale(session: Session, open_key: str, now: datetime) -> None:
    """An expired request no longer holds the (requester, ID number) key."""
    session.execute(update(ProxyRequest).where(ProxyRequest.open_key == open_key, ProxyRequest.expires_at <= now)
                    .values(open_key=None))


def request(session: Session, cfg, account: Account, name: str, id_number: str, relation: str,
            scopes: list[str], programs: list[str], days: int, address: str | None = None) -> ProxyRequest:
    """Record a request the same way whether or not it matched; ask the target if it did (within her limits)."""
    from flows.proxies import _existing

    if account.resident_id is None:
        raise Conflict("Bind your own identity first; a proxy acts under her own name.")
    try:  # a typo is said at once (a check character tells nothing of whether the person exists)
        number = validate(id_number, today_shanghai())
    except InvalidIdNumber as exc:
        raise Unprocessable("The ID number is not valid.", errors={"json": {"id_number": [exc.code]}}) from None
    _take_daily_slot(session, account, address)
    now = clock_now()  # the request's 7 days and the grant's end run on the test clock too
    cipher = cipher_for(cfg)
    id_hashes = cipher.lookup_hashes(number, "id")  # more than one while a data-key rotation runs
    id_hash = id_hashes[0]
    principal = session.execute(select(Resident).where(Resident.id_hash.in_(id_hashes))).scalar()
    matched = principal is not None and principal.name == name.strip() and principal.id != account.resident_id
    open_key = f"{account.resident_id}:{id_hash}"
    for key in (f"{account.resident_id}:{h}" for h in id_hashes):  # under an older key: until rotated
        _close_stale(session, key, now)
    older = [f"{account.resident_id}:{h}" for h in id_hashes[1:]]
    if older and session.execute(select(ProxyRequest.id).where(ProxyRequest.open_key.in_(older))).first():
        security_log.refused("proxy_request_open", actor=f"account:{account.id}", address=address, result="409")
        raise RequestAlreadyOpen()
    row = {"requester_account_id": account.id, "requester_resident_id": account.resident_id,
           "target_id_hash": id_hash, "target_resident_id": principal.id if matched else None,
           "name_masked": mask_name(name.strip()), "relation": relation, "scopes": list(scopes or DEFAULT_SCOPES),
           "programs": list(programs), "grant_id": None, "messaged": False, "open_key": open_key,
           "created_at": now, "expires_at": now + REQUEST_TTL}
    inserted = session.execute(insert_ignore(session, ProxyRequest.__table__).values(id=new_id(), **row)
                               .returning(ProxyRequest.__table__.c.id)).scalar()
    if inserted is None:
        security_log.refused("proxy_request_open", actor=f"account:{account.id}", address=address, result="409")
        raise RequestAlreadyOpen()
    proxy_request = session.get(ProxyRequest, inserted)
    if matched and _blocking(_existing(session, principal.id, account.id), now) is None:
        _ask(session, proxy_request, principal, account, days, now)
    elif not matched:
        # The same reads as a match (comparable time); with 5 requests a day, timing tells nothing anyway.
        _existing(session, 0, account.id)
        _turned_down_before(session, account.resident_id, 0, now, proxy_request.id)
        session.get(ProxyRequestQuota, f"target:{account.resident_id}")
    return proxy_request


def _blocking(grant: ProxyGrant | None, now: datetime) -> ProxyGrant | None:
    """An existing grant that makes a new request moot — not a request left unanswered for 7 days."""
    if grant is not None and grant.status == "requested" and grant.created_at + REQUEST_TTL <= now:
        return None
    return grant


class _PairTaken(Exception):
    """The pair's grant was opened by a parallel request (uq_proxy_grants_family_pair)."""


def _ask(session: Session, proxy_request: ProxyRequest, principal: Resident, account: Account, days: int,
         now: datetime) -> None:
    from flows.proxies import add_family_grant

    proxy_resident = session.get(Resident, account.resident_id)
    grant = ProxyGrant(created_at=now, resident_id=principal.id, proxy_account_id=account.id,
                       proxy_resident_id=proxy_resident.id, status="requested", scopes=list(proxy_request.scopes), programs=list(proxy_request.programs),
                       relation=proxy_request.relation, basis="request", evidence={"request_id": proxy_request.id},
                       created_by=f"account:{account.id}", expires_at=now + timedelta(days=days))
    try:  # a parallel request or accept of the same pair opened one meanwhile: that one stands, nothing is asked
        add_family_grant(session, grant, _PairTaken())
    except _PairTaken:
        return
    proxy_request.grant_id = grant.id
    if _turned_down_before(session, proxy_resident.id, principal.id, now, proxy_request.id):
        return
    if not _take_target_message(session, principal.id, now):
        security_log.refused("proxy_request_target_limit", actor=f"account:{account.id}", result="not_sent",
                             limit=TARGET_MESSAGES)
        return
    proxy_request.messaged = True
    enqueue(session, kind="proxy_request", idempotency_key=f"proxy-grant:{grant.id}:asked",
            resident_id=grant.resident_id,
            data={"grant_id": grant.id, "proxy_name": mask_name(proxy_resident.name), "scopes": list(grant.scopes),
                  "text": "有人申请成为您的亲情代办人,请在小程序中确认或拒绝"})


def check_confirmable(session: Session, grant: ProxyGrant, now: datetime | None = None) -> None:
    """A requested grant can be accepted only within the request's 7 days."""
    if grant.basis == "request" and grant.status == "requested" and \
            grant.created_at + REQUEST_TTL <= (now or clock_now()):
        raise Conflict("The request has expired (7 days); the family member may ask again.")


def accepted(session: Session, grant: ProxyGrant) -> None:
    """The target accepted: the request is no longer open."""
    session.execute(update(ProxyRequest).where(ProxyRequest.grant_id == grant.id).values(open_key=None))


def status_of(proxy_request: ProxyRequest, grant: ProxyGrant | None, now: datetime | None = None) -> str:
    """What the requester sees: pending | active | expired | withdrawn — never whether anything matched or was
    declined."""
    if grant is not None and grant.activated_at is not None:
        return "active"
    if proxy_request.withdrawn_at is not None:
        return "withdrawn"
    return "pending" if proxy_request.expires_at > (now or clock_now()) else "expired"


def withdraw(session: Session, account: Account, found: ProxyRequest) -> tuple[ProxyRequest, ProxyGrant | None]:
    """The requester (authorized: `proxy_request:withdraw`) takes her request back while it is pending: its open
    key is freed (she may ask again at once), and the grant it left for the person asked, not yet confirmed, is
    withdrawn (`revoked` by her). The same answer whether or not it matched anyone; a repeat changes nothing.
    409 once the person has accepted (revoke the grant instead) or the 7 days have passed."""
    now = clock_now()
    if found.grant_id is not None:  # one conditional UPDATE: a confirmation racing this one wins or loses whole
        session.execute(update(ProxyGrant).where(ProxyGrant.id == found.grant_id, ProxyGrant.activated_at.is_(None),
                                                 ProxyGrant.status == "requested")
                        .values(status="revoked", revoked_at=now, revoked_by=f"account:{account.id}")
                        .execution_options(synchronize_session=False))
    grant = session.get(ProxyGrant, found.grant_id, populate_existing=True) if found.grant_id else None
    if grant is not None and grant.activated_at is not None:
        raise Conflict("The person has accepted: the grant is active; revoke it instead.",
                       error_code="proxy_request_accepted")
    if found.withdrawn_at is None and found.expires_at <= now:
        raise Conflict("The request expired after 7 days; there is nothing to withdraw.",
                       error_code="proxy_request_expired")
    session.execute(update(ProxyRequest).where(ProxyRequest.id == found.id, ProxyRequest.withdrawn_at.is_(None))
                    .values(withdrawn_at=now, open_key=None).execution_options(synchronize_session=False))
    session.refresh(found)
    return found, grant


def requests_of(session: Session, account: Account) -> list[tuple[ProxyRequest, ProxyGrant | None]]:
    """The requester's requests not yet accepted (an accepted one is listed as its grant), newest first."""
    if account.resident_id is None:
        return []
    rows = session.execute(
        select(ProxyRequest, ProxyGrant).outerjoin(ProxyGrant, ProxyGrant.id == ProxyRequest.grant_id)
        .where(ProxyRequest.requester_resident_id == account.resident_id,
               or_(ProxyGrant.id.is_(None), ProxyGrant.activated_at.is_(None)))
        .order_by(ProxyRequest.created_at.desc(), ProxyRequest.id)).all()
    return [(r, g) for r, g in rows]


# Grants still waiting on a request: shown to the target, never to the requester (she sees the request).
UNACCEPTED_REQUEST = and_(ProxyGrant.basis == "request", ProxyGrant.activated_at.is_(None))
