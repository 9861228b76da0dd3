"""Answers out by purpose: `/exchange/v1/registry/sync/search` (DCI-shaped) about the bureau's own facts.

The client names a purpose (one of its registered purposes) and the case at its end (`ref`); the fields asked
for must be within its allowlist for that dataset and purpose, else 403 — by default the minimal answer. An
unknown ID number gets the same answer as "not receiving". Every answer is one audit event naming the residents
it was about (so it joins each resident's feed, `audit_subjects`, delayed for a confidential purpose) with the
fields returned to each.
"""

from __future__ import annotations

from datetime import timedelta

from app import audit, digits, idnumbers
from app.crypto import cipher_for
from app.db import utcnow
from app.errors import DomainError, Forbidden
from app.security_log import refused
from flows.dates import today_shanghai
from flows.exchange.datasets import ANSWERS
from flows.imports import partner

MAX_IDS = 1000


def _fail(message: str, code: str):
    return DomainError(message, error_code=code)


def _id_number(query: dict, value: str, today) -> tuple[str, tuple[str, str] | None]:
    """(the normalised number, None) or ("", (reason code, detail)) for a value that is no ID number: another
    query type, another script's digits, the wrong length, check character or birth date."""
    if query.get("type", "CN-ID") != "CN-ID":
        return "", ("ID_TYPE", "query.type must be CN-ID")
    try:
        return idnumbers.validate(value, today), None
    except idnumbers.InvalidIdNumber as exc:
        foreign = digits.foreign_digit(idnumbers.normalize(value))
        if foreign is not None:
            return "", ("ID_DIGITS", f"write the ID number with the digits 0-9; {digits.describe(foreign)} is not one")
        return "", (exc.code, str(exc))


def search(session, cfg, client, message: dict, request_hash: str, address: str | None) -> dict:
    criteria = message.get("search_criteria")
    items = message.get("search_request")
    if not isinstance(criteria, dict) or not isinstance(items, list) or not items:
        raise _fail("message needs search_criteria and a non-empty search_request list", "search_invalid")
    if len(items) > MAX_IDS:
        raise _fail(f"at most {MAX_IDS} IDs per call", "rjct.search.too_many_records_found")
    reg_type = criteria.get("reg_type")
    dataset = ANSWERS.get(reg_type) if isinstance(reg_type, str) else None
    if dataset is None:
        raise _fail("reg_type must be one of " + ", ".join(ANSWERS), "reg_type_unknown")
    authorize = criteria.get("authorize")
    purpose = authorize.get("purpose") if isinstance(authorize, dict) else None
    code, ref = (purpose.get("code"), purpose.get("ref")) if isinstance(purpose, dict) else (None, None)
    if not isinstance(code, str) or not isinstance(ref, str) or not ref.strip() or len(ref) > 64:
        raise _fail("authorize.purpose needs code and ref (the case at the asking department)", "purpose_missing")
    allowed = client.purposes.get(code)
    if allowed is None:
        refused("exchange_purpose_not_allowed", actor=f"exchange:{client.id}", address=address, purpose=code[:32])
        raise Forbidden("This purpose is not registered for this client.", error_code="purpose_not_allowed")
    allowlist = set((allowed.get("fields") or {}).get(dataset.code) or ())
    fields = criteria.get("fields") or list(dataset.minimal)
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise _fail("fields must be a list of field names", "search_invalid")
    outside = [f for f in fields if f not in allowlist]
    if outside:
        refused("exchange_field_not_allowed", actor=f"exchange:{client.id}", address=address, purpose=code[:32],
                dataset=dataset.code)
        raise Forbidden("Fields outside this client's allowlist for the purpose: " + ", ".join(
            f[:32] for f in outside), error_code="field_not_allowed")
    numbers, rejected, today = [], {}, today_shanghai()
    for it in items:
        query = ((it or {}).get("query") or {}) if isinstance(it, dict) else {}
        value = query.get("value") if isinstance(query, dict) else None
        reference = it.get("reference_id") if isinstance(it, dict) else None
        if not isinstance(value, str) or not isinstance(reference, str) or len(reference) > 64:
            raise _fail("each search_request item needs reference_id and query.value (an ID number)", "search_invalid")
        number, problem = _id_number(query, value, today)
        if problem is not None:
            rejected[len(numbers)] = problem
            if problem[0] == "ID_DIGITS":
                refused("ascii_digits", actor=f"exchange:{client.id}", address=address, field="query.value")
        numbers.append((reference, number))
    cipher = cipher_for(cfg)
    conn = session.connection()
    found = partner.people(conn, cipher, [(i, {"id_number": n}) for i, (_, n) in enumerate(numbers) if n])
    resident_of = {n: found.get(cipher.lookup_hash(n, "id")) for _, n in numbers if n}
    ids = sorted({p.id for p in resident_of.values() if p is not None})
    facts = dataset.answer(conn, ids) if ids else {}
    responses, told = [], {}
    for i, (reference, number) in enumerate(numbers):
        if i in rejected:  # not an ID number at all: said so, never "not receiving" (the asker would act on it)
            reason, detail = rejected[i]  # (not `code`: that is the purpose the audit event records)
            responses.append({"reference_id": reference, "status": "rjct",
                              "status_reason_code": "rjct.reference_id.invalid",
                              "status_reason_message": f"{reason}: {detail}"})
            continue
        person = resident_of.get(number) if number else None
        full = facts.get(person.id) if person is not None else None
        data = {f: (full or dataset.not_receiving).get(f) for f in fields}
        if person is not None:
            told[str(person.id)] = data
        responses.append({"reference_id": reference, "status": "succ", "data": data})
    delay = int(allowed.get("delay_days") or 0)
    # at the commit, after the message id's answer is kept: the audit chain's lock is then held for the append only
    audit.record_at_commit(session, actor=f"exchange:{client.id}", action="exchange.search",
                           object_ref=f"dataset:{dataset.code}",
                           source_ip=address, details={
                               "client": client.id, "department": client.name, "purpose": code,
                               "purpose_text": allowed.get("text") or code, "ref": ref.strip(), "dataset": dataset.code,
                               "fields": fields, "told": told, "request_hash": request_hash},
                           subjects=ids, actor_kind="department",
                           visible_at=utcnow() + timedelta(days=delay) if delay else None)
    return {"transaction_id": message.get("transaction_id"), "correlation_id": request_hash,
            "search_response": responses}
