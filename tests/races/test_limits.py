"""Limits under concurrency, across two API processes on one database: staff lock-out, binding failures per
account / per target ID / per address, and the public-notice limit. Each asserts the exact outcome."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import requests
from sqlalchemy import func, select

from app.models import AuditEvent, BindAttempt, PublicNotice
from flows.dates import today_shanghai
from tests.authz import helpers as h
from tests.builders import make_account, make_resident
from tests.races.conftest import QUIET

WRONG = "wrong password, surely"


def _count(session, query) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(query.subquery()))


def test_24_parallel_wrong_passwords_check_exactly_5_then_lock(servers, session, cfg):
    h.staff(session, cfg, username="clerk_race", role="clerk")

    def login(_i, base, password=WRONG):
        return requests.post(f"{base}/api/v1/staff/auth/login", json={"username": "clerk_race", "password": password},
                             timeout=QUIET)

    refused, locked = servers.security_lines("staff_lockout"), servers.security_lines("staff_lockout", "locked")
    answers = servers.burst(24, login)
    assert Counter(r.status_code for r in answers) == {401: 5, 429: 19}
    assert all(int(r.headers["Retry-After"]) > 0 for r in answers if r.status_code == 429)
    for base in servers.apis:  # the right password is refused during the lock, on either process
        right = login(0, base, password="correct horse battery")
        assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0
    checked = select(AuditEvent).where(AuditEvent.action == "staff.login", AuditEvent.result == "bad_password")
    assert _count(session, checked) == 5
    assert _count(session, select(AuditEvent).where(AuditEvent.action == "staff.lockout")) == 1
    # one security log line per refusal (19 + the 2 right passwords), one for the lock itself
    assert (servers.security_lines("staff_lockout") - refused, servers.security_lines("staff_lockout", "locked")
            - locked) == (21, 1)


class _Binder:
    """A signed-in, unbound citizen account with a fresh WeChat phone code for every attempt."""

    def __init__(self, servers, session, cfg, n: int):
        self.servers = servers
        self.openid = f"o_race_bind_{n:020d}"
        self.headers = h.headers_for(session, cfg, make_account(session, openid=self.openid))

    def bind(self, base, name, id_number, phone="13900001111"):
        code = requests.post(f"{self.servers.mock}/__mock__/phone-code", json={"openid": self.openid, "phone": phone},
                             timeout=QUIET).json()["code"]
        return requests.post(f"{base}/api/v1/me/identity", headers=self.headers, timeout=QUIET,
                             json={"name": name, "id_number": id_number, "phone_code": code})


def _failures(session) -> int:
    return _count(session, select(BindAttempt).where(BindAttempt.succeeded.is_(False)))


def test_24_parallel_failed_bindings_of_one_account_record_exactly_5(servers, session, cfg):
    _, id_number = make_resident(session, cfg, name="李秀英", phone="13900001111")
    me = _Binder(servers, session, cfg, 1)
    refused = servers.security_lines("bind_failures")
    answers = servers.burst(24, lambda i, base: me.bind(base, "王冒名", id_number))
    assert Counter(r.status_code for r in answers) == {409: 5, 429: 19}
    assert all(int(r.headers["Retry-After"]) > 0 for r in answers if r.status_code == 429)
    assert _failures(session) == 5
    # the right answer waits too: the account is over its limit
    assert me.bind(servers.apis[0], "李秀英", id_number).status_code == 429
    assert servers.security_lines("bind_failures") - refused == 20


def test_12_parallel_right_bindings_of_one_account_bind_once(servers, session, cfg):
    """Each with its own phone code: 4-5 answered 200 and left as many open bindings (and feed entries); some of
    the rest were told the resident was bound to "another" account — their own."""
    from app.models import IdentityBinding

    _, id_number = make_resident(session, cfg, name="李秀英", phone="13900001111")
    me = _Binder(servers, session, cfg, 2)
    answers = servers.burst(12, lambda i, base: me.bind(base, "李秀英", id_number))
    statuses = Counter(r.status_code for r in answers)
    # at most 5 attempts of one account are in flight at once (each holds a slot until it ends): the rest wait
    assert statuses[200] == 1 and statuses[200] + statuses[409] + statuses[429] == 12, statuses
    assert statuses[409] >= 4 and {r.json()["error_code"] for r in answers if r.status_code == 409} == {"account_bound"}
    assert me.bind(servers.apis[0], "李秀英", id_number).json()["error_code"] == "account_bound"  # no slot lost
    assert _count(session, select(IdentityBinding)) == 1
    assert _count(session, select(AuditEvent).where(AuditEvent.action == "identity.bind")) == 1


def test_24_accounts_guessing_one_target_id_get_5_tries_between_them(servers, session, cfg):
    _, id_number = make_resident(session, cfg, name="李秀英", phone="13900001111")
    binders = [_Binder(servers, session, cfg, 100 + i) for i in range(24)]
    answers = servers.burst(24, lambda i, base: binders[i].bind(base, "王冒名", id_number))
    assert Counter(r.status_code for r in answers) == {409: 5, 429: 19}
    assert _failures(session) == 5


def test_the_per_address_backstop_is_higher_than_the_per_account_limit(servers, session, cfg):
    """54 different accounts, 54 different target IDs, one address: 50 are checked (a backstop, so that many
    residents behind one carrier address still get through), 4 refused."""
    targets = [make_resident(session, cfg, name=f"居民{i}", phone=f"1390000{i:04d}", household_id=f"A{i}")[1]
               for i in range(54)]
    binders = [_Binder(servers, session, cfg, 200 + i) for i in range(54)]
    answers = servers.burst(54, lambda i, base: binders[i].bind(base, "王冒名", targets[i]))
    assert Counter(r.status_code for r in answers) == {409: 50, 429: 4}
    assert _failures(session) == 50


def test_60_parallel_notice_requests_from_one_address_pass_exactly_30(servers, session, cfg):
    resident, _ = make_resident(session, cfg)
    application = h.application(session, resident, program="dibao", state="public_notice")
    today = today_shanghai()
    session.add(PublicNotice(application_id=application.id, program="dibao", street_code="140105001",
                             masked_name="李*英", amount_fen=35000, starts_on=today - timedelta(days=1),
                             ends_on=today + timedelta(days=5), state="open"))
    session.commit()
    refused = servers.security_lines("public_notice_rate")
    answers = servers.burst(60, lambda i, base: requests.get(f"{base}/api/v1/public-notices",
                                                            params={"street": "140105001"}, timeout=QUIET))
    assert Counter(r.status_code for r in answers) == {200: 30, 429: 30}
    assert all(int(r.headers["Retry-After"]) > 0 for r in answers if r.status_code == 429)
    assert all(len(r.json()) == 1 for r in answers if r.status_code == 200)
    assert servers.security_lines("public_notice_rate") - refused == 30
