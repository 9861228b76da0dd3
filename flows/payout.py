"""A payout account (社保卡 / bank account) changed by the resident or a proxy with the `payout` scope.

The HTTP layer checks a fresh sign-in (step-up) and the authorization; here the number is validated (digits
only; a bank account 12–19 digits, a card number of 16–19 digits must pass the Luhn check; a social-security
card's financial account 10–19 digits), encrypted, kept with a keyed hash and a mask, and the resident is told
(outbox `payout_account_changed`). The account belongs to the resident, so it serves all her benefits; a
later import does not overwrite it (flows.imports.payout_accounts).
"""

from __future__ import annotations

from sqlalchemy import and_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import digits
from app.blank_text import has_format_characters, visible_count
from app.crypto import cipher_for
from app.db import utcnow
from app.errors import Unprocessable
from app.masking import mask_account, mask_name
from app.models import PayoutAccount, Resident
from flows.conflicts import is_unique_violation
from flows.dates import today_shanghai
from notifications.outbox import enqueue

KINDS = {"social_security_card": "sscard", "bank_account": "bank"}
API_KINDS = {v: k for k, v in KINDS.items()}


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def validate(kind: str, number: str, bank_name: str | None, holder_name: str, resident: Resident) -> tuple[str, str]:
    """(stored kind, normalised number) or Unprocessable with a code per field."""
    errors: dict[str, list[str]] = {}
    stored = KINDS.get(kind)
    number = digits.to_ascii(number or "").replace(" ", "")
    if stored is None:
        errors["kind"] = ["kind_invalid"]
    if not digits.is_ascii_digits(number):
        errors["account_number"] = ["digits_only"]
    elif stored == "bank":
        if not 12 <= len(number) <= 19:
            errors["account_number"] = ["length_12_19"]
        elif len(number) >= 16 and not luhn_ok(number):
            errors["account_number"] = ["checksum"]
        if not visible_count(bank_name or ""):
            errors["bank_name"] = ["required_for_bank_account"]
        elif has_format_characters(bank_name):  # a direction override garbled the resident's alert naming it
            errors["bank_name"] = ["format_characters"]
    elif stored == "sscard" and not 10 <= len(number) <= 19:
        errors["account_number"] = ["length_10_19"]
    if (holder_name or "").strip() != resident.name:
        errors["holder_name"] = ["not_the_resident"]
    if errors:
        raise Unprocessable("The payout account is not valid.", errors={"json": errors})
    return stored, number


def view(account: PayoutAccount | None) -> dict:
    if account is None:
        return {"kind": None, "bank_name": None, "account_masked": None, "source": None, "updated_at": None}
    return {"kind": API_KINDS.get(account.kind, account.kind), "bank_name": account.bank_name or None,
            "account_masked": account.number_mask, "source": account.source, "updated_at": account.updated_at}


def _first_account(session: Session, resident_id: int, values: dict) -> PayoutAccount | None:
    """Insert the resident's first account; None if a parallel request inserted it a moment ago (primary key
    resident_id): this change then goes over that one (a PUT: the last one wins)."""
    account = PayoutAccount(resident_id=resident_id, **values)
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
        return account
    except IntegrityError as exc:
        if not is_unique_violation(exc, "payout_accounts", "resident_id"):
            raise
    return None


def change(session: Session, cfg, resident: Resident, *, kind: str, number: str, bank_name: str | None,
           holder_name: str, actor_account_id: str, via_proxy: bool, proxy_name: str | None = None
           ) -> tuple[PayoutAccount, bool]:
    """Set the resident's payout account. Returns (account, changed); an identical account changes nothing."""
    stored, number = validate(kind, number, bank_name, holder_name, resident)
    cipher = cipher_for(cfg)
    number_hashes = cipher.lookup_hashes(number, "account")
    number_hash = number_hashes[0]
    bank = (bank_name or "").strip()[:64]
    account = session.get(PayoutAccount, resident.id)
    if account is not None and (account.kind, account.bank_name) == (stored, bank) and account.number_hash in number_hashes:
        return account, False
    now = utcnow()
    values = {"kind": stored, "bank_name": bank, "number_enc": cipher.encrypt(number),
              "number_mask": mask_account(number), "number_hash": number_hash,
              "source": "proxy" if via_proxy else "citizen", "changed_by": actor_account_id[:32],
              "source_date": today_shanghai(), "updated_at": now}
    inserted = _first_account(session, resident.id, values) if account is None else None
    if inserted is not None:
        account = inserted
    else:  # a conditional UPDATE: of parallel identical changes one changes the account (and tells her once)
        same = and_(PayoutAccount.kind == stored, PayoutAccount.bank_name == bank,
                    PayoutAccount.number_hash.in_(number_hashes))
        done = session.execute(update(PayoutAccount).where(PayoutAccount.resident_id == resident.id, ~same)
                               .values(**values).execution_options(synchronize_session=False)).rowcount
        account = session.get(PayoutAccount, resident.id, populate_existing=True)
        if not done:
            return account, False
    enqueue(session, kind="payout_account_changed",
            idempotency_key=f"resident:{resident.id}:payout_account_changed:{now:%Y%m%d%H%M%S%f}",
            resident_id=resident.id,
            data={"kind": API_KINDS[stored], "bank_name": bank, "account_masked": account.number_mask,
                  "changed_at": now.isoformat(timespec="seconds") + "Z",
                  "by": "proxy" if via_proxy else "self",
                  "proxy_name": mask_name(proxy_name) if via_proxy and proxy_name else None})
    return account, True
