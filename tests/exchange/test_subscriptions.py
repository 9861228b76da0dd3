"""Issue 15 item 1: subscriptions. A 医保 client subscribed to 低保 start/stop receives exactly one signed notify
per stopped benefit — under ~30% injected callback faults and a dispatcher SIGKILLed mid-run — delivered by the
dispatcher's callback channel; a loopback or private callback is refused at registration; named-people
subscriptions; the async search answered at /registry/on-search; the notification joins the resident's feed."""

from __future__ import annotations

import os
import signal
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select, update

from app.db import make_engine, utcnow
from app.models import Benefit, OutboxMessage
from notifications import outbox as ob
from tests.authz import helpers as h
from tests.builders import make_resident
from tests.exchange.helpers import Department, start_worker
from tests.exchange.receiver import Receiver
from tests.notifications.test_notif_reliability import start_worker as start_dispatcher
from tests.waiting import stop, wait_until

PURPOSES = {"premium_aid": {"legal_basis": "《社会救助暂行办法》第二十八条；医保参保资助", "text": "城乡居民医保参保资助",
                            "programs": ["dibao"], "fields": {"dibao_household": ["receiving", "since"]}},
            "case_check": {"legal_basis": "医疗救助对象核验", "text": "医疗救助核验",
                           "fields": {"dibao_household": ["receiving"]}}}
ALLOW = "127.0.0.1"
FAULTS = 0.3


@pytest.fixture
def allow_local(cfg, monkeypatch):
    monkeypatch.setenv("ZEROTRIP_EXCHANGE_CALLBACK_ALLOW", ALLOW)
    cfg.exchange_callback_allow = ALLOW


def bureau_key(client) -> str:
    keys = client.get("/exchange/v1/.well-known/keys").json["keys"]
    assert keys[0]["alg"] == "Ed25519" and keys[0]["kid"]
    return keys[0]["public_key"]


def test_loopback_and_private_callbacks_are_refused_at_registration(client, cfg, cli):
    ybj = Department(cli, "ybj-r", "search,subscribe", PURPOSES)
    for url in ("https://127.0.0.1/dci", "https://localhost:8443/dci", "https://10.1.2.3/dci",
                "https://192.168.0.9/dci", "https://169.254.169.254/latest", "https://[::1]/dci",
                "http://127.0.0.1:9/dci"):
        result = cli("exchange", "callback", "set", "--client", ybj.id, "--url", url)
        assert result.exit_code == 2 and "callback_refused" in result.output, (url, result.output)
    mid, body = ybj.envelope("subscribe", {"callback_url": "https://10.0.0.7/dci", "scope": "program",
                                           "program": "dibao", "purpose": "premium_aid", "ref": "YB-1",
                                           "expires_on": "2027-06-30"})
    resp = ybj.post(client, "/exchange/v1/registry/subscribe", body, mid)
    assert (resp.status_code, resp.json["error_code"]) == (400, "callback_refused")
    # nothing was registered: a subscription without a callback is refused too
    mid, body = ybj.envelope("subscribe", {"scope": "program", "program": "dibao", "purpose": "premium_aid",
                                           "ref": "YB-1", "expires_on": "2027-06-30"})
    assert ybj.post(client, "/exchange/v1/registry/subscribe", body, mid).json["error_code"] == "callback_missing"


def test_a_whole_program_needs_the_program_under_a_legal_basis(client, cfg, cli, allow_local):
    ybj = Department(cli, "ybj-p", "search,subscribe", PURPOSES)
    mid, body = ybj.envelope("subscribe", {"callback_url": "http://127.0.0.1:9/dci", "scope": "program",
                                           "program": "dibao", "purpose": "case_check", "ref": "YB-2",
                                           "expires_on": "2027-06-30"})
    resp = ybj.post(client, "/exchange/v1/registry/subscribe", body, mid)
    assert (resp.status_code, resp.json["error_code"]) == (403, "program_not_allowed")
    mid, body = ybj.envelope("subscribe", {"callback_url": "http://127.0.0.1:9/dci", "scope": "program",
                                           "program": "elderly_allowance",
                                           "purpose": "premium_aid", "ref": "YB-2", "expires_on": "2027-06-30"})
    assert ybj.post(client, "/exchange/v1/registry/subscribe", body, mid).json["error_code"] == "subscription_invalid"


def _dibao_people(session, cfg, n: int):
    people = []
    for i in range(n):
        resident, number = make_resident(session, cfg, name=f"低保户{i}", household_id=f"HS{i}",
                                         birth_date=date(1950, 1, 1 + i % 28), phone=f"1391111{i:04d}")
        session.add(Benefit(program="dibao", resident_id=resident.id, tier="", monthly_amount_fen=60000,
                            start_month="2025-03", state="active"))
        people.append((resident, number))
    session.commit()
    return people


def _settled(cfg, kind="exchange_notify"):
    engine = make_engine(cfg.database_url)

    def probe():
        with engine.connect() as conn:
            states = Counter(dict(conn.execute(select(OutboxMessage.state, func.count())
                                               .where(OutboxMessage.kind == kind)
                                               .group_by(OutboxMessage.state)).all()))
            attempts = conn.execute(select(func.coalesce(func.sum(OutboxMessage.attempts), 0))
                                    .where(OutboxMessage.kind == kind)).scalar_one()
        return states, attempts
    return probe


def test_program_subscriber_gets_exactly_one_signed_notify_per_stop_under_faults_and_a_kill(
        client, session, cfg, cli, tmp_path, allow_local):
    n = int(os.environ.get("SUBSCRIPTION_N", "40"))
    people = _dibao_people(session, cfg, n)
    with Receiver(bureau_key(client), faults=FAULTS, slow_s=1.5) as receiver:
        ybj = Department(cli, "ybj", "search,subscribe", PURPOSES)
        mid, body = ybj.envelope("subscribe", {"callback_url": receiver.base, "scope": "program",
                                               "program": "dibao", "events": ["start", "stop"],
                                               "purpose": "premium_aid", "ref": "YB-2026-ZZ",
                                               "expires_on": "2027-06-30"})
        resp = ybj.post(client, "/exchange/v1/registry/subscribe", body, mid)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert resp.json["message"]["events"] == ["start", "stop"]

        police = Department(cli, "gongan-s", "push", death_source="public_security")
        records = [{"reference_id": f"D{i}", "dataset": "deaths",
                    "record": {"id_number": number, "death_date": "2026-10-15", "source": "public_security"}}
                   for i, (_, number) in enumerate(people)]
        assert police.push(client, records).status_code == 200
        worker = start_worker(cfg, tmp_path)  # applies the deaths and publishes the stops
        extra = {"ZEROTRIP_EXCHANGE_CALLBACK_ALLOW": ALLOW, "DISPATCH_MAX_ATTEMPTS": "60", "DISPATCH_BATCH": "10",
                 "DISPATCH_CONCURRENCY": "4", "DISPATCH_LEASE_S": "5"}
        dispatchers = [start_dispatcher(cfg, "cb1", extra), start_dispatcher(cfg, "cb2", extra)]
        probe = _settled(cfg)
        try:
            wait_until(probe, lambda seen: seen[0]["sent"] >= n // 4, what="a quarter of the notifies sent")
            dispatchers[0].send_signal(signal.SIGKILL)
            dispatchers[0].wait()
            dispatchers[0] = start_dispatcher(cfg, "cb1-again", extra)
            seen = wait_until(probe, lambda seen: sum(seen[0].values()) >= n
                              and not any(seen[0].get(s) for s in ob.ACTIVE_STATES), what="notifies settling")
        finally:
            for proc in (*dispatchers, worker):
                stop(proc)
        assert seen[0] == Counter({"sent": n}), seen

        notifies = receiver.distinct("notify")
        assert receiver.bad_signatures == 0
        assert len(notifies) == n  # exactly one notify per stopped benefit (a repeat carries the same id)
        by_event = Counter(e["message"]["records"][0]["event_id"] for e in notifies.values())
        assert set(by_event.values()) == {1}
        records = [e["message"]["records"][0] for e in notifies.values()]
        assert {r["event"] for r in records} == {"stop"} and {r["program"] for r in records} == {"dibao"}
        assert sorted(r["person"]["id_number"] for r in records) == sorted(number for _, number in people)
        assert all("death" not in repr(r) and "reason" not in r for r in records)  # never the death itself
        assert {d["key"] for d in receiver.deliveries} == {"civil-affairs-1"}
        repeats = len(receiver.deliveries) - len(notifies)
        print(f"\nsubscriptions n={n}: {len(receiver.deliveries)} deliveries, {repeats} repeats "
              f"(answered after the sender's timeout or during the kill)")

        # the receipt log keeps the receiver's acknowledgement
        log = cli("exchange", "deliveries", "--client", "ybj", "--limit", str(n))
        assert log.exit_code == 0 and log.output.count('"state": "sent"') == n and '"receipt": "ack-' in log.output


def test_named_people_and_the_feed(client, session, cfg, cli, tmp_path, allow_local):
    watched, watched_acc, watched_number = h.person(session, cfg, "王淑珍", birth=date(1952, 2, 2))
    other, _, _ = h.person(session, cfg, "赵德明", birth=date(1953, 3, 3))
    with Receiver(bureau_key(client)) as receiver:
        ybj = Department(cli, "ybj-n", "search,subscribe", PURPOSES)
        assert cli("exchange", "callback", "set", "--client", ybj.id, "--url", receiver.base).exit_code == 0
        people = tmp_path / "people.csv"
        people.write_text(f"reference_id,id_number,ref\nP-1,{watched_number},YB-CASE-7\n", encoding="utf-8")
        result = cli("exchange", "subscribe", "--client", ybj.id, "--scope", "people", "--purpose", "case_check",
                     "--ref", "YB-LIST-1", "--expires", "2027-03-31", "--people", str(people))
        assert result.exit_code == 0, result.output
        for r in (watched, other):
            session.add(Benefit(program="dibao", resident_id=r.id, tier="", monthly_amount_fen=50000,
                                start_month="2026-12", state="active"))
        session.commit()
        assert cli("exchange", "worker", "--once").output.strip().endswith("notifications_queued=1")
        assert cli("exchange", "worker", "--once").output.strip().endswith("notifications_queued=0")
        from notifications.dispatcher import DispatchSettings, dispatch_once

        counts = dispatch_once(cfg, settings=DispatchSettings(quiet_hours=None))
        assert counts["sent"] == 1, counts
        (envelope,) = receiver.distinct("notify").values()
        record = envelope["message"]["records"][0]
        assert (record["event"], record["reference_id"], record["purpose"]) == (
            "start", "P-1", {"code": "case_check", "ref": "YB-CASE-7"})

    feed = client.get("/api/v1/me/activity", headers=h.headers_for(session, cfg, watched_acc)).json
    told = [e for e in feed if e["action"] == "exchange.notify"]
    assert len(told) == 1 and told[0]["actor_name"] == "测试部门ybj-n" and "低保开始发放" in told[0]["what"]


def test_async_search_answers_at_on_search(client, session, cfg, cli, allow_local):
    resident, _, number = h.person(session, cfg, "孙桂芝", birth=date(1951, 4, 4))
    session.add(Benefit(program="dibao", resident_id=resident.id, tier="", monthly_amount_fen=50000,
                        start_month="2025-05", state="active"))
    session.commit()
    with Receiver(bureau_key(client)) as receiver:
        ybj = Department(cli, "ybj-a", "search,subscribe", PURPOSES)
        assert cli("exchange", "callback", "set", "--client", ybj.id, "--url", receiver.base).exit_code == 0
        criteria = {"reg_type": "dibao_household", "fields": ["receiving", "since"],
                    "authorize": {"purpose": {"code": "premium_aid", "ref": "YB-B-1"}}}
        mid, body = ybj.envelope("search", {"transaction_id": "TB", "search_criteria": criteria, "search_request": [
            {"reference_id": f"R{i}", "query": {"type": "CN-ID", "value": number}} for i in range(3)]})
        resp = ybj.post(client, "/exchange/v1/registry/search", body, mid)
        assert resp.status_code == 200 and resp.json["message"]["ack_status"] == "ACK"
        from notifications.dispatcher import DispatchSettings, dispatch_once

        assert dispatch_once(cfg, settings=DispatchSettings(quiet_hours=None))["sent"] == 1
        (envelope,) = receiver.distinct("on-search").values()
        assert envelope["header"]["in_reply_to"] == mid
        assert [r["data"] for r in envelope["message"]["search_response"]] == [
            {"receiving": True, "since": "2025-05"}] * 3


def test_people_that_are_no_id_numbers_or_repeat_a_reference_are_refused(client, session, cfg, cli, allow_local):
    """Stored as a hash that never matches, such an entry meant the department was never told — silently."""
    _, _, number = h.person(session, cfg, "钱秀兰", birth=date(1950, 5, 5))
    ybj = Department(cli, "ybj-v", "search,subscribe", PURPOSES)
    arabic = number.translate({ord(str(d)): chr(0x0660 + d) for d in range(10)})

    def subscribe(people):
        mid, body = ybj.envelope("subscribe", {"callback_url": "http://127.0.0.1:9/dci", "scope": "people",
                                               "purpose": "case_check", "ref": "YB-V", "expires_on": "2027-06-30",
                                               "people": people})
        return ybj.post(client, "/exchange/v1/registry/subscribe", body, mid)

    for bad in ("123", arabic, number[:17] + ("1" if number[17] == "0" else "0")):
        resp = subscribe([{"reference_id": "P-1", "id_number": bad}])
        assert (resp.status_code, resp.json["error_code"]) == (400, "subscription_invalid"), resp.json
        assert "people[0].id_number" in resp.json["message"]
    twice = subscribe([{"reference_id": "P-1", "id_number": number}, {"reference_id": "P-1", "id_number": number}])
    assert twice.status_code == 400 and "people[1].reference_id" in twice.json["message"]
    assert subscribe([{"reference_id": "P-1", "id_number": number}]).status_code == 200


def test_a_corrected_callback_url_takes_the_messages_still_waiting(client, session, cfg, cli, allow_local):
    """A department set a wrong URL, an answer was queued and failed there; it corrects the URL and the next
    attempt goes to the new one (it went on to the old URL until it dead-lettered: probe of 7 Dec)."""
    from notifications.dispatcher import DispatchSettings, dispatch_once
    from tests.ports import free_port

    _, _, number = h.person(session, cfg, "孙桂芝", birth=date(1951, 4, 4))
    with Receiver(bureau_key(client)) as receiver:
        ybj = Department(cli, "ybj-fix", "search,subscribe", PURPOSES)
        closed = f"http://127.0.0.1:{free_port()}/dci"
        assert cli("exchange", "callback", "set", "--client", ybj.id, "--url", closed).exit_code == 0
        criteria = {"reg_type": "dibao_household", "authorize": {"purpose": {"code": "case_check", "ref": "C-9"}}}
        mid, body = ybj.envelope("search", {"transaction_id": "TF", "search_criteria": criteria, "search_request": [
            {"reference_id": "R0", "query": {"type": "CN-ID", "value": number}}]})
        assert ybj.post(client, "/exchange/v1/registry/search", body, mid).status_code == 200
        settings = DispatchSettings(quiet_hours=None)
        assert dispatch_once(cfg, settings=settings)["sent"] == 0  # connection refused: waits for a retry
        assert cli("exchange", "callback", "set", "--client", ybj.id, "--url", receiver.base).exit_code == 0
        session.execute(update(OutboxMessage).where(OutboxMessage.kind == "exchange_on_search")
                        .values(next_attempt_at=utcnow()))  # the retry is due now
        session.commit()
        assert dispatch_once(cfg, settings=settings)["sent"] == 1
        (envelope,) = receiver.distinct("on-search").values()
        assert envelope["header"]["in_reply_to"] == mid


def test_fields_of_the_wrong_type_are_400_not_500(client, session, cfg, cli, allow_local):
    """A purpose, program or event given as a list or an object was a 500 (an unhashable look-up)."""
    _, _, number = h.person(session, cfg, "钱秀英", birth=date(1950, 5, 6))
    ybj = Department(cli, "ybj-t", "search,subscribe", PURPOSES)
    base = {"callback_url": "http://127.0.0.1:9/dci", "scope": "people", "purpose": "case_check", "ref": "YB-T",
            "expires_on": "2027-06-30", "people": [{"reference_id": "P-1", "id_number": number}]}
    for change in ({"purpose": ["case_check"]}, {"purpose": {"a": 1}}, {"program": ["dibao"]},
                   {"events": [["start"]]}, {"events": {"start": 1}},
                   {"people": [{"reference_id": "P-1", "id_number": number, "purpose": ["case_check"]}]}):
        mid, body = ybj.envelope("subscribe", {**base, **change})
        resp = ybj.post(client, "/exchange/v1/registry/subscribe", body, mid)
        assert (resp.status_code, resp.json["error_code"]) == (400, "subscription_invalid"), (change, resp.json)
