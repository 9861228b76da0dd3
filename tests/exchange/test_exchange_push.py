"""Issue 14 acceptance: a registered department pushes deaths over HTTP (signed), each record validated by the
CSV import's code; the exchange worker (its own process) stops the benefits and queues the family's message at
once; the same push again changes nothing; a withdrawn death resumes the benefit with arrears; unsigned, badly
signed, unknown-key, revoked-key and out-of-window requests → 401 with their codes; a replayed id with another
body → 409."""

from __future__ import annotations

import logging
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from app.crypto import cipher_for
from app.models import (
    Benefit,
    BenefitChange,
    ExchangeRecord,
    OutboxMessage,
    PayoutAccount,
    PayrollLine,
    Resident,
)
from flows.exchange import signing
from tests.builders import make_resident
from tests.exchange.helpers import PUSH_PATH, Department, start_worker, wait_applied
from tests.lifecycle.helpers import benefit


@pytest.fixture
def worker(cfg, tmp_path):
    proc = start_worker(cfg, tmp_path)
    yield proc
    proc.terminate()
    proc.wait(timeout=60)


def _people(session, cfg, n=3):
    out = []
    for i in range(n):
        r, number = make_resident(session, cfg, name=f"王{i}", household_id=f"HX{i}", birth_date=date(1940, 1, 1 + i))
        session.add(PayoutAccount(resident_id=r.id, kind="sscard", bank_name="", number_enc=cipher_for(cfg).encrypt("6217000000001234"),
                                  number_mask="6217********1234", number_hash=f"h{i}", source="hrss",
                                  source_date=date(2026, 1, 1)))
        b = benefit(session, r, start="2026-01")
        out.append((r, number, b))
    return out


def _death(ref, number, died="2026-10-15"):
    return {"reference_id": ref, "dataset": "deaths", "record": {"id_number": number, "death_date": died,
                                                                 "source": "public_security"}}


def test_push_deaths_take_effect_at_once_and_a_withdrawal_resumes(client, session, cfg, cli, worker):
    police = Department(cli, "gongan", "push", death_source="public_security")
    people = _people(session, cfg)
    # January to October are paid (a closed roll) before the deaths are reported
    assert cli("payroll", "--month", "2026-10", "--close", "--as-of", "2026-10-31").exit_code == 0
    records = [_death(f"D{i}", number) for i, (_, number, _) in enumerate(people)]
    records.append({"reference_id": "BAD", "dataset": "deaths",
                    "record": {"id_number": people[0][1], "death_date": "2026-13-40", "source": "public_security"}})
    resp = police.push(client, records)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    results = resp.json["message"]["results"]
    assert [r["status"] for r in results] == ["accepted"] * 3 + ["rejected"]
    assert results[3]["reasons"][0]["code"] == "DEATH_DATE_INVALID"  # the import's own reason code
    assert resp.headers["X-ZT-Request-Hash"] == resp.json["header"]["request_hash"]

    wait_applied(session, worker)
    session.expire_all()
    for _, _, b in people:
        row = session.get(Benefit, b.id)
        assert (row.state, row.end_month) == ("stopped", "2026-10")
    # one 身后一件事 message per deceased (flows.lifecycle.after_death), not one per stopped benefit
    stopped = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "after_death")).all()
    assert sorted(m.resident_id for m in stopped) == sorted(r.id for r, _, _ in people)
    assert {m.data["reason"] for m in stopped} == {"death"}

    # The same push again (a new message id) changes nothing.
    counts = (session.scalar(select(func.count()).select_from(BenefitChange)),
              session.scalar(select(func.count()).select_from(OutboxMessage)))
    again = police.push(client, records)
    assert again.status_code == 200
    assert [r.get("duplicate") for r in again.json["message"]["results"][:3]] == [True] * 3
    assert session.scalar(select(func.count()).select_from(ExchangeRecord).where(
        ExchangeRecord.state == "pending")) == 0
    session.expire_all()
    assert counts == (session.scalar(select(func.count()).select_from(BenefitChange)),
                      session.scalar(select(func.count()).select_from(OutboxMessage)))

    # Only the report itself is withdrawn: another department of the same source, or another reference id, is
    # refused (it withdrew any death of that source, and benefits resumed for someone dead).
    first, number, b = people[0]
    other_office = Department(cli, "gongan2", "push", death_source="public_security")
    for sender, ref in ((other_office, "D0"), (police, "D-ANY")):
        refused = sender.push(client, [{**_death(ref, number), "event": "DEATH_CANCELLED"}])
        result = refused.json["message"]["results"][0]
        assert (result["status"], result["reasons"][0]["code"]) == ("rejected", "NOT_THE_SOURCE"), result
    session.expire_all()
    assert session.get(Resident, first.id).death_date is not None

    # The source withdraws the first death: the benefit resumes from the stop month, the family is told.
    withdraw = police.push(client, [{**_death("D0", number), "event": "DEATH_CANCELLED"}])
    assert withdraw.json["message"]["results"][0]["status"] == "accepted"
    wait_applied(session, worker)
    session.expire_all()
    row = session.get(Benefit, b.id)
    assert (row.state, row.end_month) == ("active", None)
    assert session.get(Resident, first.id).death_date is None
    resumed = session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == b.id,
                                                          BenefitChange.kind == "resumed")).one()
    assert resumed.effective_month == "2026-11"
    assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.kind == "benefit_resumed", OutboxMessage.resident_id == first.id)) == 1
    # the next roll pays November (stopped, then resumed) as arrears; the two who died are not paid
    assert cli("payroll", "--month", "2026-12", "--as-of", "2026-12-01").exit_code == 0
    session.expire_all()
    lines = {ln.benefit_id: ln for ln in session.scalars(select(PayrollLine).where(PayrollLine.month == "2026-12"))}
    assert (lines[b.id].covered_from, lines[b.id].arrears_fen) == ("2026-11", b.monthly_amount_fen)
    assert people[1][2].id not in lines and people[2][2].id not in lines


def test_refusals_carry_their_codes_and_one_security_line(client, session, cfg, cli, caplog, monkeypatch):
    police = Department(cli, "gongan2", "push", death_source="public_security")
    _, number = make_resident(session, cfg)
    mid, body = police.envelope("notify", {"records": [_death("X1", number)]})
    caplog.set_level(logging.WARNING, logger="zerotrip.security")

    def code(resp, status):
        assert resp.status_code == status, resp.get_data(as_text=True)
        return resp.json["error_code"]

    assert code(police.post(client, PUSH_PATH, body, mid, drop="X-ZT-Signature"), 401) == "signature_missing"
    other = Department(cli, "other", "push")
    assert code(police.post(client, PUSH_PATH, body, mid, key=other.key), 401) == "signature_invalid"
    assert code(police.post(client, PUSH_PATH, body, mid, key_id="nope"), 401) == "key_unknown"
    skewed = police.post(client, PUSH_PATH, body, mid, ts=int(time.time()) - 120)
    assert code(skewed, 401) == "timestamp_skew"
    assert abs(skewed.json["errors"]["server_time"] - time.time()) < 120
    lines = [r for r in caplog.records if r.name == "zerotrip.security"]
    assert len(lines) == 4 and all("exchange_" in r.getMessage() for r in lines)

    # replay: the same id and body → the stored original; another body → 409
    first = police.post(client, PUSH_PATH, body, mid)
    assert first.status_code == 200
    retry = police.post(client, PUSH_PATH, body, mid)
    assert (retry.status_code, retry.get_data()) == (200, first.get_data())
    _, other_body = police.envelope("notify", {"records": [_death("X2", number)]}, mid)
    assert code(police.post(client, PUSH_PATH, other_body, mid), 409) == "message_id_reused"

    # a second key during a changeover; revoking the first is at once
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from flows.exchange import signing

    new_key = Ed25519PrivateKey.generate()
    assert cli("exchange", "key", "add", "--client", police.id, "--public-key", signing.public_key_text(new_key),
               "--key-id", "gongan2-k2").exit_code == 0
    assert police.push(client, [_death("X3", number)], key=new_key, key_id="gongan2-k2").status_code == 200
    assert police.push(client, [_death("X4", number)]).status_code == 200
    assert cli("exchange", "key", "revoke", police.key_id).exit_code == 0
    assert code(police.push(client, [_death("X5", number)]), 401) == "key_revoked"

    # an expired agreement, an action not allowed
    late = Department(cli, "late", "push", expires="2020-01-01")
    assert code(late.push(client, [_death("L1", number)]), 403) == "agreement_expired"
    soon = Department(cli, "soon", "push", expires="2030-12-31")  # and on the test clock's day, past its end
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2031-01-01")
    assert code(soon.push(client, [_death("L2", number)]), 403) == "agreement_expired"
    monkeypatch.delenv("ZEROTRIP_FAKE_TODAY")
    asker = Department(cli, "asker", "search")
    assert code(asker.push(client, [_death("A1", number)]), 403) == "action_not_allowed"


def test_registration_needs_a_pia(cli):
    result = cli("exchange", "client", "add", "--id", "nopia", "--name", "x", "--public-key", "AAAA",
                 "--pia", " ", "--agreement", "A", "--agreement-expires", "2030-01-01", "--contact", "c")
    assert result.exit_code == 2 and "PIA" in result.output


def test_economic_records_need_an_open_dibao_check(client, session, cfg, cli):
    tax = Department(cli, "tax", "push")
    _, number = make_resident(session, cfg)
    resp = tax.push(client, [{"reference_id": "E1", "dataset": "economic_records", "record": {
        "id_number": number, "kind": "wage", "period": "2026-10", "amount": "1200.00", "quantity": "",
        "ref": "", "source": "tax"}}])
    assert resp.status_code == 200
    result = resp.json["message"]["results"][0]
    assert result["status"] == "rejected", result
    assert result["reasons"][0]["code"] in ("NO_AUTHORIZATION", "KIND_UNKNOWN")


def test_over_size_413_and_over_rate_429(client, session, cfg, cli):
    small = Department(cli, "small", "push", death_source="public_security", extra=("--per-minute", "2"))
    _, number = make_resident(session, cfg)
    big = [{"reference_id": f"B{i}", "dataset": "deaths",
            "record": {"id_number": number, "death_date": "2026-10-01", "source": "x" * 1200}} for i in range(1000)]
    too_big = small.push(client, big)
    assert (too_big.status_code, too_big.json["error_code"]) == (413, "body_too_large")
    plain = Department(cli, "plain", "push", death_source="public_security")
    mid, body = plain.envelope("notify", {"transaction_id": "T", "records": [_death("M1", number)]})
    as_text = client.post("/exchange/v1/registry/notify", data=body, headers={
        **signing.signed_headers(plain.id, plain.key_id, plain.key, "POST", "/exchange/v1/registry/notify",
                                 int(time.time()), mid, body), "Content-Type": "text/plain"})
    assert (as_text.status_code, as_text.json["error_code"]) == (415, "media_type")
    first = small.push(client, [_death("S1", number)], message_id="honest-retry-1")
    assert first.status_code == 200
    assert small.push(client, [_death("S2", number)]).status_code == 200
    third = small.push(client, [_death("S3", number)])
    assert third.status_code == 429 and int(third.headers["Retry-After"]) >= 1 and third.json["error_code"] == "rate_limited"
    # an honest retry (same id, same body) is never refused: the stored answer, byte for byte, over the limit too
    retry = small.push(client, [_death("S1", number)], message_id="honest-retry-1")
    assert retry.status_code == 200 and retry.data == first.data


def test_a_dataset_outside_the_clients_push_list_is_rejected_per_record(client, session, cfg, cli):
    funeral = Department(cli, "binzang", "push", {"cremation_report": {"legal_basis": "《殡葬管理条例》",
                                                                         "push": ["cremations"]}},
                         death_source="funeral")
    _, number = make_resident(session, cfg)
    resp = funeral.push(client, [
        {"reference_id": "C1", "dataset": "cremations", "record": {"id_number": number, "death_date": "2026-10-01",
                                                                   "source": "funeral"}},
        {"reference_id": "M1", "dataset": "hukou_moves", "record": {"id_number": number, "move_date": "2026-10-01",
                                                                    "direction": "out", "area_code": "110105"}}])
    assert resp.status_code == 200
    first, second = resp.json["message"]["results"]
    # 殡葬 is corroboration by default: accepted, kept, no effect
    assert (first["status"], first["reasons"][0]["code"]) == ("accepted", "CORROBORATION")
    assert (second["status"], second["reasons"][0]["code"]) == ("rejected", "DATASET_NOT_ALLOWED")
    assert session.get(Resident, session.scalars(select(Resident.id)).first()).death_date is None


def test_care_assessments_pushed_by_the_assessment_agency_use_the_imports_validation(client, session, cfg, cli):
    """老年人能力评估 by push: the same validation and reason codes as `zerotrip import care-assessments`, one result
    per record, idempotent per reference id; the accepted assessment is on file for the programs that read it."""
    from app.models.care_assessment import CareAssessment

    agency = Department(cli, "pinggu", "push", {"care_need_assessment": {
        "legal_basis": "《老年人能力评估规范》GB/T 42195-2022", "push": ["care_assessments"]}})
    person, number = make_resident(session, cfg, birth_date=date(1941, 5, 1))
    items = [{"reference_id": "A1", "dataset": "care_assessments",
              "record": {"id_number": number, "assessed_on": "2026-09-01", "level": "3", "assessor": "小店区评估站"}},
             {"reference_id": "A2", "dataset": "care_assessments",
              "record": {"id_number": number, "assessed_on": "2026-09-02", "level": "５", "assessor": "小店区评估站"}}]
    resp = agency.push(client, items)
    assert resp.status_code == 200, resp.json
    first, second = resp.json["message"]["results"]
    assert first["status"] == "accepted", first
    assert (second["status"], second["reasons"][0]["code"]) == ("rejected", "LEVEL_INVALID"), second
    again = agency.push(client, items[:1]).json["message"]["results"][0]
    assert again["status"] == "accepted" and again.get("duplicate") is True, again
    session.expire_all()
    (row,) = session.scalars(select(CareAssessment).where(CareAssessment.resident_id == person.id)).all()
    assert (row.level, row.assessed_on) == (3, date(2026, 9, 1))


def test_a_funeral_home_pushes_a_cremation_record_and_the_arranger_is_proposed_the_subsidy(client, session, cfg, cli,
                                                                                            monkeypatch):
    """A cremation record by push (the `cremations` import's contract: 治丧人, services, amount waived): the same
    validation and reason codes; the next daily step proposes the funeral subsidy to the 治丧人 — a married daughter
    in another household — net of what was waived, as after `zerotrip import cremations`."""
    from app.crypto import cipher_for
    from app.models import Application
    from tests.authz import helpers as ah

    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2026-03-10")
    home = Department(cli, "binyiguan", "push", {"funeral_subsidy": {
        "legal_basis": "《殡葬管理条例》；惠民殡葬政策", "push": ["cremation_records"]}})
    father = ah.person(session, cfg, "钱老汉", birth=date(1944, 2, 1), household="HH-Q1")[0]
    daughter, daughter_account, daughter_number = ah.person(session, cfg, "钱秀兰", birth=date(1970, 5, 1),
                                                            household="HH-Q9")
    father.death_date = date(2026, 3, 6)
    session.commit()
    number = cipher_for(cfg).decrypt(father.id_enc)
    record = {"id_number": number, "funeral_home": "太原市殡仪馆", "cremation_date": "2026-03-08",
              "arranger_name": "钱秀兰", "arranger_id_number": daughter_number, "arranger_phone": "13900008888",
              "services": "接运;火化", "waived_amount": "600.00"}
    items = [{"reference_id": "C1", "dataset": "cremation_records", "record": record},
             {"reference_id": "C2", "dataset": "cremation_records",
              "record": {**record, "id_number": daughter_number, "services": "烧纸"}}]
    resp = home.push(client, items)
    assert resp.status_code == 200, resp.json
    first, second = resp.json["message"]["results"]
    assert first["status"] == "accepted", first
    assert second["status"] == "rejected" and "SERVICES_INVALID" in {r["code"] for r in second["reasons"]}, second
    assert home.push(client, items[:1]).json["message"]["results"][0].get("duplicate") is True

    assert cli("scheduler", "run-once", "--as-of", "2026-03-10").exit_code == 0
    headers = ah.headers_for(session, cfg, daughter_account)
    (mine,) = [a for a in client.get("/api/v1/applications", headers=headers).json if a["program"] == "funeral_subsidy"]
    assert mine["state"] == "proposed" and [a["role"] for a in mine["applicants"]] == ["funeral_arranger"], mine
    session.expire_all()
    assert session.get(Application, mine["id"]).resident_id == father.id


def test_a_corrected_death_date_moves_the_stop_with_it(client, session, cfg, cli, worker):
    """The same reference id with a later date (a correction) left the benefit ending with the first date's month:
    the months in between were never paid; an earlier one left it paid on."""
    police = Department(cli, "gongan-c", "push", death_source="public_security")
    (person, number, b), = _people(session, cfg, 1)
    for died, end, effective in (("2026-10-15", "2026-10", "2026-11"), ("2026-12-01", "2026-12", "2027-01"),
                                 ("2026-08-20", "2026-08", "2026-09")):
        resp = police.push(client, [_death("DC", number, died)])
        assert resp.json["message"]["results"][0]["status"] == "accepted", resp.json
        wait_applied(session, worker)
        session.expire_all()
        row = session.get(Benefit, b.id)
        stop = session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == b.id,
                                                           BenefitChange.change_key == "stop")).one()
        assert (row.state, row.end_month, stop.effective_month) == ("stopped", end, effective), died
