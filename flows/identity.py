"""Identity binding (实名绑定): an account becomes a resident's when name + ID number match the registry
and the phone number WeChat vouches for is on file for that resident and for no other.

"No such person" and "does not match" give the same answer; failures are counted per account, per target
ID and per source address, and after 5 in an hour the caller must wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app import security_log
from app.crypto import cipher_for
from app.db import utcnow
from app.errors import Conflict, TooManyAttempts, Unprocessable, UpstreamUnavailable
from app.idnumbers import InvalidIdNumber, validate
from app.models import Account, BindAttempt, Resident, StaffTask
from flows import bindings, limits
from flows.conflicts import is_unique_violation
from flows.dates import today_shanghai
from notifications.outbox import enqueue
from notifications.wechat_client import WeChatError, WeChatTransportError

WINDOW = timedelta(hours=1)
NO_MATCH = "The name, ID number and phone number do not match our records."
BOUND_ELSEWHERE = ("This resident is already bound to another WeChat account. "
                   "Re-binding goes through staff at your community office.")


@dataclass
class BindResult:
    status: str  # bound | pending_staff_verification


def _buckets(cfg, account: Account, id_hashes: list[str], ip: str) -> list[tuple[str, str, int]]:
    """(scope, counter, limit): per account and per target ID do the work; per address is only a backstop.
    During a data-key rotation the target is counted under its hash with every key of the ring."""
    return [("account", f"bind:acct:{account.id}", cfg.bind_max_failures),
            *(("target", f"bind:id:{id_hash}", cfg.bind_max_failures) for id_hash in id_hashes),
            ("address", f"bind:addr:{ip}"[:80], cfg.bind_max_failures_per_address)]


def _older(bucket: str, id_hashes: list[str]) -> bool:
    """A counter under an older key of the ring: spent while it exists, never created (the rotation renames it)."""
    return any(bucket == f"bind:id:{h}" for h in id_hashes[1:])


def _claim_attempt(session: Session, cfg, account: Account, id_hashes: list[str], ip: str) -> list[str]:
    """Spend one attempt of each counter atomically (flows.limits.take, committed before the registry is asked);
    on a refusal give back what was taken, log one security line and raise 429."""
    taken: list[str] = []
    for scope, bucket, limit in _buckets(cfg, account, id_hashes, ip):
        wait = limits.take(session, bucket, limit, int(WINDOW.total_seconds()), create=not _older(bucket, id_hashes))
        if wait is not None:
            _give_back(session, taken)
            security_log.refused("bind_failures", actor=f"account:{account.id}", address=ip, scope=scope)
            raise TooManyAttempts("Too many failed attempts; try again later.", wait)
        taken.append(bucket)
    return taken


def _give_back(session: Session, buckets: list[str]) -> None:
    for bucket in buckets:
        limits.give_back(session, bucket)
    session.commit()


def _record(session: Session, account: Account, id_hash: str | None, ip: str, ok: bool) -> None:
    session.add(BindAttempt(account_id=account.id, id_hash=id_hash, source_ip=ip, succeeded=ok))
    session.commit()


def _already_bound() -> Conflict:
    return Conflict("This account is already bound to a resident; unbind it first.", error_code="account_bound")


def bind(session: Session, cfg, client, account: Account, name: str, id_number: str, phone_code: str, ip: str) -> BindResult:
    if account.resident_id is not None:
        raise _already_bound()
    try:
        number = validate(id_number, today_shanghai())
    except InvalidIdNumber as exc:
        raise Unprocessable("The ID number is not valid.", errors={"json": {"id_number": [exc.code]}}) from None
    cipher = cipher_for(cfg)
    id_hashes = cipher.lookup_hashes(number, "id")  # current key first; more than one while a rotation runs
    id_hash = id_hashes[0]
    taken = _claim_attempt(session, cfg, account, id_hashes, ip)
    try:
        phone = _phone_from_wechat(client, phone_code, account.openid)
    except Exception:
        _give_back(session, taken)  # WeChat could not say: not a failed match
        raise
    resident = session.execute(select(Resident).where(Resident.id_hash.in_(id_hashes))).scalar()
    phone_hashes = cipher.lookup_hashes(phone, "phone")
    if resident is None or resident.name != name.strip() or resident.phone_hash not in phone_hashes:
        _record(session, account, id_hash, ip, ok=False)
        raise Conflict(NO_MATCH, error_code="identity_no_match")
    try:
        result = _bind_matched(session, account, resident, phone_hashes, id_hash, ip)
    except IntegrityError as exc:  # another account bound this resident a moment ago (unique accounts.resident_id)
        session.rollback()
        if not is_unique_violation(exc, "accounts", "resident_id"):
            raise
        raise Conflict(BOUND_ELSEWHERE, error_code="resident_bound_elsewhere") from None
    except Conflict as exc:
        if exc.error_code == "account_bound":  # a parallel repeat of this binding won: not a failed match
            session.rollback()
            _give_back(session, taken)
        raise
    _give_back(session, taken)  # a success is not a failure
    return result


def _bind_matched(session: Session, account: Account, resident: Resident, phone_hashes: list[str], id_hash: str,
                  ip: str) -> BindResult:
    holder = session.execute(select(Account).where(Account.resident_id == resident.id)).scalar()
    if holder is not None and holder.id == account.id:  # a parallel repeat of this very binding won a moment ago
        raise _already_bound()
    if holder is not None:
        enqueue(session, kind="identity_bind_attempt",
                idempotency_key=f"bind-attempt:{holder.id}:{utcnow():%Y%m%d%H%M%S%f}", account_id=holder.id,
                resident_id=None, data={})
        _record(session, account, id_hash, ip, ok=False)
        raise Conflict(BOUND_ELSEWHERE, error_code="resident_bound_elsewhere")
    sharing = session.scalar(select(func.count()).select_from(Resident).where(Resident.phone_hash.in_(phone_hashes)))
    if sharing > 1:
        _open_verification_task(session, account, resident)
        _record(session, account, id_hash, ip, ok=True)
        return BindResult("pending_staff_verification")
    # one conditional UPDATE: of parallel bindings of one account (each with its own phone code) one wins; the
    # others get what a repeat sent later gets
    now = utcnow()
    won = session.execute(update(Account).where(Account.id == account.id, Account.resident_id.is_(None))
                          .values(resident_id=resident.id, bound_at=now)
                          .execution_options(synchronize_session=False)).rowcount
    if not won:
        raise _already_bound()
    set_committed_value(account, "resident_id", resident.id)
    set_committed_value(account, "bound_at", now)
    bindings.on_bound(session, account, resident)
    _record(session, account, id_hash, ip, ok=True)
    return BindResult("bound")


def _open_verification_task(session: Session, account: Account, resident: Resident) -> None:
    key = f"identity-verification:{account.id}:{resident.id}"
    if session.execute(select(StaffTask.id).where(StaffTask.dedupe_key == key)).first():
        return
    session.add(StaffTask(kind="identity_verification", resident_id=resident.id, account_id=account.id,
                          district_code=resident.district_code, street_code=resident.street_code,
                          community_code=resident.community_code, dedupe_key=key,
                          details={"reason": "phone number on file is shared by several residents"}))


def _phone_from_wechat(client, phone_code: str, openid: str | None) -> str:
    try:
        return client.phone_number(phone_code, openid).phone
    except WeChatError as exc:
        if exc.errcode in (40029, 40013):
            raise Unprocessable("The phone authorisation code is invalid or expired; ask the user again.",
                                errors={"json": {"phone_code": ["invalid_or_expired"]}}) from None
        if exc.errcode == 45011:  # as at sign-in: WeChat's minute limit, said with when to try again
            raise TooManyAttempts("WeChat is limiting phone confirmations; try again in a minute.", 60) from None
        raise UpstreamUnavailable("WeChat could not confirm the phone number right now.") from None
    except WeChatTransportError:
        raise UpstreamUnavailable("WeChat could not be reached; try again shortly.") from None


def pending_verification(session: Session, account: Account) -> bool:
    key = f"identity-verification:{account.id}:%"
    return session.execute(
        select(StaffTask.id).where(StaffTask.dedupe_key.like(key), StaffTask.state == "open")
    ).first() is not None


def unbind(session: Session, account: Account) -> tuple[int | None, int]:
    """Unbind; her grants as a proxy are suspended at once (flows.bindings). Returns (the resident that was bound,
    how many grants were suspended)."""
    resident_id = account.resident_id
    account.resident_id, account.bound_at = None, None
    suspended = bindings.on_unbound(session, account, resident_id) if resident_id is not None else 0
    return resident_id, suspended
