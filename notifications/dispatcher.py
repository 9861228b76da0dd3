"""The dispatcher: claims due outbox rows, sends them outside any transaction, records the result.

One pass (`Dispatcher.run_once`):

1. **claim** (short transaction): rows `pending` and due, or `sending` with an expired lease, become
   `sending` with `lease_owner` (a token unique to this claim) and `lease_until`. PostgreSQL picks them
   with `FOR UPDATE SKIP LOCKED`; SQLite's single writer makes the one UPDATE atomic. The same transaction
   turns `inflight` rows whose lease expired into `unknown` (their dispatcher died mid-call: re-sending
   could deliver twice and spend a second one-time grant, so they are never re-sent automatically).
2. **prepare** (short transaction per chunk, guarded by the lease): render the message from the database,
   resolve the recipient, write the inbox item, decide the channel, reserve a one-time grant, and mark
   the row `inflight` (attempts on this channel + 1) — or finish it (`no_channel`, `no_quota`, `inbox_only`, `failed`,
   deferred for quiet hours).
3. **send** the chunk concurrently (threads), rate-limited, no transaction open.
4. **record** (short transaction, guarded by lease owner and state `inflight`/`unknown`, so a terminal
   state never regresses): `sent` + provider msgid, or back to `pending` with backoff (refunding the
   grant), the next channel (SMS, due now, its own attempt count) on a permanent WeChat refusal
   (43101 no grant, 40003 bad openid, 47003 bad data, …) or when WeChat's attempts are spent, `dead`
   (alert) only when the last channel's attempts are spent, `no_quota`/`failed` when there is no next
   channel. `attempts` counts the calls on the row's current `channel`: DISPATCH_MAX_ATTEMPTS is per
   channel (docs/notifications.md). The inbox item exists whatever the channels did.
"""

from __future__ import annotations

import json
import logging
import os
import random
import secrets
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, or_, select, update

from app.crypto import cipher_for
from app.db import session_factory, utcnow
from app.digits import is_ascii_digits
from app.models import OutboxMessage, Resident
from app.models.ids import new_id
from app.sql import insert_ignore, is_postgres
from notifications import inbox, recipients, subscriptions
from notifications import outbox as ob
from notifications.channels import Outcome
from notifications.channels import callback as callback_channel
from notifications.channels import wechat as wechat_channel
from notifications.channels.sms import SmsClient
from notifications.errors import FAILED, NO_QUOTA, OK, RETRY, TRANSPORT, Backoff
from notifications.templates import SELF_ONLY_KINDS, TZ, URGENT_KINDS, Message, render
from notifications.wechat_client import client_for

log = logging.getLogger("zerotrip.dispatch")
# A WeChat call without an answer may still have been delivered; the row's last_error keeps this marker
# through later retries so that a final 43101 is read as "probably delivered by that attempt".
MAYBE_DELIVERED = "[maybe-delivered] "
# Called as listener(channel, verdict, error_class) for every provider answer; `zerotrip dispatch` registers
# the metrics counter (kept free of imports here). error_class: "none", "transport" or the provider errcode.
result_listeners: list = []
T = OutboxMessage
# Kinds sent by the callback channel (signed POSTs to a department, notifications/channels/callback.py): no inbox
# item, no WeChat, no quiet hours. Their body carries a stable message id that the receiver keeps, so a row whose
# dispatcher died mid-call is sent again (the receiver drops the repeat) instead of being left `unknown`.
CALLBACK_KINDS = ("exchange_notify", "exchange_on_search")


def _env(name: str, default, kind=float):
    raw = os.environ.get(name)
    return kind(raw) if raw not in (None, "") else default


def parse_quiet_hours(raw) -> tuple[int, int] | None:
    """`22-8` → (22, 8): local hours [start, end) in which non-urgent sends wait (off/none/0: never). ValueError
    in words for anything else (`22-24` crashed the dispatcher at night, `25-8` was taken silently)."""
    if not raw or str(raw).strip().lower() in ("off", "none", "0"):
        return None
    start, sep, end = str(raw).strip().partition("-")
    if not sep or not (is_ascii_digits(start) and is_ascii_digits(end)) \
            or not (0 <= int(start) <= 23 and 0 <= int(end) <= 23) or int(start) == int(end):
        raise ValueError(f"DISPATCH_QUIET_HOURS must be two different hours 0-23 as START-END (e.g. 22-8) or off, "
                         f"not {str(raw)[:20]!r}")
    return int(start), int(end)


@dataclass
class DispatchSettings:
    batch: int = 100
    concurrency: int = 4
    lease_s: float = 60.0
    max_attempts: int = 8
    backoff: Backoff = field(default_factory=Backoff)
    rate_per_s: float = 0.0  # 0 = no limit
    quiet_hours: tuple[int, int] | None = (22, 8)  # local hours [start, end) for non-urgent sends
    elderly_age: int = 60

    @classmethod
    def from_config(cls, cfg) -> DispatchSettings:
        """Config attributes first, then DISPATCH_* environment variables (documented in docs/notifications.md)."""
        quiet_raw = os.environ.get("DISPATCH_QUIET_HOURS", getattr(cfg, "dispatch_quiet_hours", "22-8"))
        quiet = parse_quiet_hours(quiet_raw)
        timeout = float(getattr(cfg, "http_timeout", 5.0))
        return cls(
            batch=_env("DISPATCH_BATCH", int(getattr(cfg, "dispatch_batch", 100)), int),
            concurrency=_env("DISPATCH_CONCURRENCY", int(getattr(cfg, "dispatch_concurrency", 4)), int),
            lease_s=_env("DISPATCH_LEASE_S", max(60.0, 4 * timeout)),
            max_attempts=_env("DISPATCH_MAX_ATTEMPTS", int(getattr(cfg, "dispatch_max_attempts", 8)), int),
            backoff=Backoff(base=_env("DISPATCH_RETRY_BASE_S", 30.0), cap=_env("DISPATCH_RETRY_CAP_S", 3600.0)),
            rate_per_s=_env("DISPATCH_RATE", float(getattr(cfg, "dispatch_rate", 0.0))),
            quiet_hours=quiet,
        )


class RateLimiter:
    """A token bucket per process (rate/s, burst = rate/3 + 1); 0 disables it."""

    def __init__(self, rate: float):
        self.rate, self.capacity = rate, max(1.0, rate / 3 + 1)
        self.tokens, self.last = self.capacity, time.monotonic()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        if self.rate <= 0:
            return
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
                self.last = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            time.sleep(wait)


@dataclass
class Job:
    id: str
    lease: str
    kind: str
    attempts: int
    channel: str
    account_id: str | None = None
    template: object = None
    openid: str | None = None
    message: Message | None = None
    phone: str | None = None
    reserved: bool = False
    prev_error: str | None = None
    prev_channel: str | None = None
    outcome: Outcome | None = None
    url: str | None = None
    envelope: dict | None = None


def default_worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}"


class Dispatcher:
    def __init__(self, cfg, *, worker_id: str | None = None, client=None, sms=None,
                 settings: DispatchSettings | None = None, clock=utcnow, rng: random.Random | None = None):
        self.cfg = cfg
        self.sessions = session_factory(cfg)
        self.client = client or client_for(cfg)
        self.sms = sms if sms is not None else (SmsClient(cfg) if cfg.sms_api_base else None)
        self.settings = settings or DispatchSettings.from_config(cfg)
        self.worker_id = (worker_id or default_worker_id())[:50]
        self.clock = clock
        self.rng = rng or random.Random()
        self.limiter = RateLimiter(self.settings.rate_per_s)
        self._pool: ThreadPoolExecutor | None = None
        self.marked_unknown = 0  # in-flight rows of a dead dispatcher this one marked unknown, not yet counted

    # -- claim ---------------------------------------------------------------------------------------------
    def claim(self, n: int) -> tuple[str, list[str]]:
        lease = f"{self.worker_id}:{secrets.token_hex(4)}"
        now = self.clock()
        with self.sessions() as s:
            s.execute(
                update(T).where(T.state == ob.INFLIGHT, T.lease_until < now, T.kind.in_(CALLBACK_KINDS))
                .values(state=ob.PENDING, lease_owner=None, lease_until=None, next_attempt_at=now,
                        last_error="dispatcher lost during the call: sent again with the same message id")
                .execution_options(synchronize_session=False))
            lost = s.execute(
                update(T).where(T.state == ob.INFLIGHT, T.lease_until < now)
                .values(state=ob.UNKNOWN, last_error="dispatcher lost during the provider call; not re-sent")
                .execution_options(synchronize_session=False)
            ).rowcount
            if lost:
                log.error("outbox alert: %d in-flight row(s) whose dispatcher died marked unknown", lost)
                self.marked_unknown += lost  # counted in this run's summary (`unknown=`)
            due = or_(and_(T.state == ob.PENDING, T.next_attempt_at <= now),
                      and_(T.state == ob.SENDING, T.lease_until < now))
            pick = select(T.id).where(due).order_by(T.next_attempt_at).limit(n)
            if is_postgres(s):
                # Materialized, so that the locking LIMIT runs once: inlined in `IN (…)`, PostgreSQL may re-run
                # it per outer row, each run skipping the rows the last one locked, and claim far more than n.
                picked = pick.with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED")
                pick = select(picked.c.id)
            s.execute(update(T).where(T.id.in_(pick.scalar_subquery()), due)
                      .values(state=ob.SENDING, lease_owner=lease,
                              lease_until=now + timedelta(seconds=self.settings.lease_s))
                      .execution_options(synchronize_session=False))
            ids = list(s.execute(select(T.id).where(T.lease_owner == lease, T.state == ob.SENDING)).scalars())
            s.commit()
        return lease, ids

    # -- one pass ------------------------------------------------------------------------------------------
    def run_once(self, limit: int | None = None) -> Counter:
        """Process due rows until none is left (or `limit` rows were claimed). Returns counts."""
        counts: Counter = Counter()
        while limit is None or counts["claimed"] < limit:
            n = self.settings.batch if limit is None else min(self.settings.batch, limit - counts["claimed"])
            lease, ids = self.claim(n)
            if self.marked_unknown:
                counts["unknown"] += self.marked_unknown
                self.marked_unknown = 0
            if not ids:
                break
            counts["claimed"] += len(ids)
            self.process(lease, ids, counts)
        return counts

    def process(self, lease: str, ids: list[str], counts: Counter) -> None:
        size = max(1, self.settings.concurrency * 2)
        for i in range(0, len(ids), size):
            jobs = self.prepare(lease, ids[i:i + size], counts)
            if jobs:
                self.send(jobs)
                self.record(jobs, counts)

    # -- prepare -------------------------------------------------------------------------------------------
    def _finish(self, s, job_id: str, lease: str, state: str, *, counts: Counter, error: str | None = None,
                channel: str | None = None, next_at: datetime | None = None, count_as: str | None = None) -> bool:
        values = {"state": state, "lease_owner": None if state == ob.PENDING else lease, "lease_until": None}
        if error is not None:
            values["last_error"] = error[:500]
        if channel is not None:
            values["channel"] = channel
        if next_at is not None:
            values["next_attempt_at"] = next_at
        done = s.execute(update(T).where(T.id == job_id, T.lease_owner == lease, T.state == ob.SENDING)
                         .values(**values).execution_options(synchronize_session=False)).rowcount
        if done:
            counts[count_as or state] += 1
        else:
            counts["lost_lease"] += 1
        return bool(done)

    def prepare(self, lease: str, ids: list[str], counts: Counter) -> list[Job]:
        jobs: list[Job] = []
        now = self.clock()
        with self.sessions() as s:
            # A write first: on SQLite this takes the write lock before any read of this transaction.
            s.execute(update(T).where(T.lease_owner == lease, T.state == ob.SENDING)
                      .values(lease_until=now + timedelta(seconds=self.settings.lease_s))
                      .execution_options(synchronize_session=False))
            rows = {r.id: r for r in s.execute(select(T).where(T.id.in_(ids))).scalars()}
            for job_id in ids:
                row = rows.get(job_id)
                if row is None or row.state != ob.SENDING or row.lease_owner != lease:
                    counts["lost_lease"] += 1
                    continue
                job = self._prepare_row(s, row, lease, now, counts)
                if job is not None:
                    jobs.append(job)
            s.commit()
        return jobs

    def _quiet_until(self, s, row, resident_id: int | None, now: datetime, *, anyone: bool = False) -> datetime | None:
        """Next allowed send time if `now` is inside quiet hours for an elderly recipient (or for anyone, e.g.
        the family told of a death), else None."""
        quiet = self.settings.quiet_hours
        if not quiet or row.kind in URGENT_KINDS or (resident_id is None and not anyone):
            return None
        local_now = now.replace(tzinfo=UTC).astimezone(TZ)
        start, end = quiet
        hour = local_now.hour
        inside = (start <= hour or hour < end) if start > end else (start <= hour < end)
        if not inside:
            return None
        resident = s.get(Resident, resident_id) if resident_id is not None else None
        if not anyone and (resident is None or _age(resident.birth_date, local_now.date()) < self.settings.elderly_age):
            return None
        wake = local_now.replace(hour=end, minute=0, second=0, microsecond=0)
        if wake <= local_now:
            wake += timedelta(days=1)
        return wake.astimezone(UTC).replace(tzinfo=None)

    def _prepare_row(self, s, row, lease: str, now: datetime, counts: Counter) -> Job | None:
        if row.kind in CALLBACK_KINDS:
            return self._prepare_callback(s, row, lease, now)
        message = render(s, row, now=now)
        target = recipients.resolve(s, self.cfg, row)
        inbox.ensure_item(s, outbox_id=row.id, kind=row.kind, title=message.title, body=message.body,
                          application_id=row.application_id, resident_id=target.resident_id,
                          account_id=target.account.id if target.account else row.account_id)
        if target.deceased:
            # Never her own WeChat or phone: the family (proxies, else household members with an account).
            family = self._fan_out(s, row, target.resident_id, recipients.family_accounts(s, target.resident_id),
                                   relation="family")
            if family:
                self._finish(s, row.id, lease, ob.DELEGATED, counts=counts, channel="family")
            else:
                recipients.community_task(s, row, target.resident_id)
                self._finish(s, row.id, lease, ob.NO_CHANNEL, counts=counts, channel="inbox",
                             error="deceased resident without reachable family: community worker task")
            return None
        if target.resident_id is not None and row.kind not in SELF_ONLY_KINDS:
            target.proxies = self._fan_out(s, row, target.resident_id,
                                           recipients.proxy_accounts(s, target.resident_id))
            if target.proxies and recipients.proxy_mode(s, target.resident_id) == "instead":
                self._finish(s, row.id, lease, ob.DELEGATED, counts=counts, channel="proxy")
                return None
        if message.template is None and not (target.phone and self.sms is not None):
            self._finish(s, row.id, lease, ob.INBOX_ONLY, counts=counts, channel="inbox")
            return None
        account = target.account
        reachable = (account is not None and account.openid) or (target.phone and self.sms is not None)
        if reachable:
            copy_for = account.resident_id if account is not None and target.resident_id is None else None
            wake = self._quiet_until(s, row, target.resident_id or copy_for, now,
                                     anyone=(row.data or {}).get("relation") == "family")
            if wake is not None:
                self._finish(s, row.id, lease, ob.PENDING, counts=counts, next_at=wake, error="quiet hours",
                             count_as="deferred")
                return None
        job = Job(id=row.id, lease=lease, kind=row.kind, attempts=row.attempts + 1, channel="wechat",
                  account_id=account.id if account else None, template=message.template,
                  openid=account.openid if account else None, message=message, phone=target.phone,
                  prev_error=row.last_error, prev_channel=row.channel)
        why_not = None
        if message.template is None:  # no WeChat template for this kind: SMS (a phone is on file)
            why_not = "no WeChat template for this kind"
        elif row.channel == "sms":
            why_not = row.last_error or "wechat not possible"
        elif account is None or not account.openid:
            why_not = "no account"
        elif not message.wechat_ok:
            why_not = "template data cannot be made valid: " + ",".join(message.problems)
        elif subscriptions.reserve(s, account.id, message.template):
            job.reserved = not message.template.long_term
            return self._start(s, job, now)
        else:
            why_not = "no subscription grant (or refused)"
        if target.phone and self.sms is not None:
            job.channel = "sms"
            return self._start(s, job, now)
        if account is None or not account.openid:
            if target.resident_id is not None and not target.proxies:
                recipients.community_task(s, row, target.resident_id)
            self._finish(s, row.id, lease, ob.NO_CHANNEL, counts=counts, channel="inbox",
                         error="no account, no phone: inbox item (and a community worker task if no proxy)")
        elif not message.wechat_ok:
            self._finish(s, row.id, lease, ob.FAILED, counts=counts, channel="wechat", error=why_not)
        else:
            self._finish(s, row.id, lease, ob.NO_QUOTA, counts=counts, channel="inbox",
                         error=f"{why_not}: inbox item only")
        return None

    def _prepare_callback(self, s, row, lease: str, now: datetime) -> Job:
        """A department's callback: the envelope was written by the publisher; the ID number it names is read
        from the registry now (never kept in the outbox)."""
        data = row.data or {}
        envelope = json.loads(json.dumps(data.get("envelope") or {}))
        id_of = data.get("id_of")
        if id_of is not None:
            resident = s.get(Resident, int(id_of))
            number = cipher_for(self.cfg).decrypt(resident.id_enc) if resident is not None else None
            for record in (envelope.get("message") or {}).get("records") or []:
                record.setdefault("person", {})["id_number"] = number
        job = Job(id=row.id, lease=lease, kind=row.kind, attempts=row.attempts + 1, channel="callback",
                  url=data.get("url"), envelope=envelope, prev_error=row.last_error, prev_channel=row.channel)
        return self._start(s, job, now)

    def _start(self, s, job: Job, now: datetime) -> Job:
        if job.prev_channel not in (None, job.channel):  # a new channel starts its own count
            job.attempts = 1
        started = s.execute(update(T).where(T.id == job.id, T.lease_owner == job.lease, T.state == ob.SENDING)
                            .values(state=ob.INFLIGHT, attempts=job.attempts, channel=job.channel,
                                    lease_until=now + timedelta(seconds=self.settings.lease_s))
                            .execution_options(synchronize_session=False)).rowcount
        if not started:  # cannot happen while we hold the lease; a reservation rolls back with us
            raise RuntimeError("lease lost while preparing")
        return job

    def _fan_out(self, s, row, resident_id: int, accounts: list[str], relation: str = "proxy") -> list[str]:
        """Copies for proxies with the receive_messages scope, or for the family of a deceased resident
        (idempotent child rows addressed to their accounts)."""
        now = self.clock()
        for account_id in accounts:
            s.execute(insert_ignore(s, T.__table__).values(
                id=new_id(), idempotency_key=f"{row.idempotency_key}>{relation}:{account_id}"[:160], kind=row.kind,
                resident_id=None, account_id=account_id, application_id=row.application_id,
                data={**(row.data or {}), "for_resident": resident_id, "relation": relation}, state=ob.PENDING,
                attempts=0, next_attempt_at=now, created_at=now))
        return accounts

    # -- send ----------------------------------------------------------------------------------------------
    def _send_one(self, job: Job) -> None:
        self.limiter.acquire()
        m = job.message
        try:
            if job.channel == "callback":
                job.outcome = callback_channel.send(self.cfg, job.url, job.envelope, job.envelope["header"]
                                                    ["message_id"], time.time(), float(self.cfg.http_timeout))
            elif job.channel == "sms":
                params = {"title": m.title, "text": m.sms_text}
                job.outcome = self.sms.send(job.phone, f"ZT_SMS_{job.kind.upper()}", params)
            else:
                job.outcome = wechat_channel.send(self.client, job.openid, job.template.id, m.wechat_data, m.page)
        except Exception as exc:  # noqa: BLE001 - an unexpected client error is a transient failure
            log.exception("unexpected error sending outbox row %s", job.id)
            job.outcome = Outcome(RETRY, job.channel, errcode="exception", error=type(exc).__name__)

    def send(self, jobs: list[Job]) -> None:
        if len(jobs) == 1 or self.settings.concurrency <= 1:
            for job in jobs:
                self._send_one(job)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.settings.concurrency, thread_name_prefix="dispatch")
        list(self._pool.map(self._send_one, jobs))

    # -- record --------------------------------------------------------------------------------------------
    def record(self, jobs: list[Job], counts: Counter) -> None:
        now = self.clock()
        with self.sessions() as s:
            for job in jobs:
                self._record_one(s, job, now, counts)
            s.commit()

    def _record_one(self, s, job: Job, now: datetime, counts: Counter) -> None:
        out = job.outcome
        for listener in result_listeners:
            listener(out.channel or job.channel, out.verdict, "none" if out.errcode in (None, 0) else str(out.errcode))
        ambiguous = (job.prev_error or "").startswith(MAYBE_DELIVERED)
        guard = and_(T.id == job.id, T.lease_owner == job.lease, T.state.in_((ob.INFLIGHT, ob.UNKNOWN)))

        def move(**values) -> bool:
            values.setdefault("lease_until", None)
            return bool(s.execute(update(T).where(guard).values(**values)
                                  .execution_options(synchronize_session=False)).rowcount)

        if out.verdict == OK:
            if move(state=ob.SENT, provider_msgid=out.msgid, sent_at=now, channel=out.channel, last_error=None):
                counts[ob.SENT] += 1
            else:
                counts["lost_lease"] += 1
                log.error("outbox row %s was sent but its lease was lost before recording", job.id)
            return
        if job.reserved and out.verdict in (RETRY, FAILED):
            subscriptions.refund(s, job.account_id, job.template)
        if out.verdict == RETRY:
            if job.attempts >= self.settings.max_attempts and self._next_channel(s, job, move, now, counts):
                return
            if job.attempts >= self.settings.max_attempts:
                if move(state=ob.DEAD, last_error=f"{out.error} (attempt {job.attempts}: dead-lettered)"):
                    counts[ob.DEAD] += 1
                    log.error("outbox alert: row %s (%s) dead-lettered after %d attempts: %s",
                              job.id, job.kind, job.attempts, out.error)
                return
            next_at = self.settings.backoff.next_at(now, job.attempts, out.min_delay, self.rng)
            error = out.error or ""
            if job.channel == "wechat" and (ambiguous or out.errcode == TRANSPORT):
                error = MAYBE_DELIVERED + error
            if move(state=ob.PENDING, next_attempt_at=next_at, last_error=error, lease_owner=None):
                counts["retry"] += 1
            return
        if out.verdict == NO_QUOTA and ambiguous:
            # The previous attempt timed out after the request left: WeChat probably delivered it then and
            # spent the grant. Not a refusal, and not worth an SMS duplicate: `unknown`, grant zeroed.
            subscriptions.mark_refused_by_wechat(s, job.account_id, job.template, refused=False)
            if move(state=ob.UNKNOWN, last_error=f"{out.error} after a timed-out attempt: probably delivered"):
                counts[ob.UNKNOWN] += 1
            return
        if out.verdict == NO_QUOTA:
            subscriptions.mark_refused_by_wechat(s, job.account_id, job.template)
            if self._next_channel(s, job, move, now, counts):
                return
            if move(state=ob.NO_QUOTA, last_error=out.error, channel="inbox"):
                counts[ob.NO_QUOTA] += 1
            return
        if self._next_channel(s, job, move, now, counts):  # a permanent WeChat refusal (40003, 47003, …)
            log.warning("outbox row %s (%s): WeChat refused permanently (%s), trying SMS", job.id, job.kind,
                        out.error)
            return
        if move(state=ob.FAILED, last_error=out.error):
            counts[ob.FAILED] += 1
            log.error("outbox alert: row %s (%s) failed permanently: %s", job.id, job.kind, out.error)

    def _next_channel(self, s, job: Job, move, now: datetime, counts: Counter) -> bool:
        """WeChat is spent or refused: the row goes to SMS, due now, with a fresh attempt count — when a
        phone and an SMS client are there. False when WeChat was the last channel (or SMS already was)."""
        if job.channel != "wechat" or not (job.phone and self.sms is not None):
            return False
        if move(state=ob.PENDING, next_attempt_at=now, attempts=0, channel="sms", lease_owner=None,
                last_error=f"{job.outcome.error} (wechat attempt {job.attempts}: next channel sms)"):
            counts["fallback"] += 1
        return True

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def dispatch_once(cfg, *, limit: int | None = None, worker_id: str | None = None, **kwargs) -> Counter:
    """Send every row due now (at most `limit` claimed), then return the counts."""
    dispatcher = Dispatcher(cfg, worker_id=worker_id, **kwargs)
    try:
        return dispatcher.run_once(limit)
    finally:
        dispatcher.close()


def run_forever(cfg, *, stop: threading.Event, worker_id: str | None = None, idle_sleep: float = 1.0,
                on_pass=None, **kwargs) -> Counter:
    """Loop until `stop` is set: a pass, then ~1 s of sleep when there was nothing to do."""
    dispatcher = Dispatcher(cfg, worker_id=worker_id, **kwargs)
    total: Counter = Counter()
    try:
        while not stop.is_set():
            counts = dispatcher.run_once(limit=dispatcher.settings.batch)
            total.update(counts)
            if on_pass is not None and counts:
                on_pass(counts)
            if not counts.get("claimed"):
                stop.wait(idle_sleep)
    finally:
        dispatcher.close()
    return total
