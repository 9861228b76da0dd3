"""Builders for authorization tests: residents with accounts and tokens, proxy grants, staff with tokens."""

from __future__ import annotations

import functools
import itertools
from datetime import date, timedelta
from unittest import mock

from app.db import utcnow
from app.models import Application, Approval, ProxyGrant, StaffTask
from flows.staff import hash_password as scrypt_hash
from tests.builders import make_account, make_resident

_n = itertools.count(1)


@functools.cache
def _hash_once(password: str) -> str:
    """The scrypt hash of `password`, computed once per test process: these staff sign in with it as with any
    (the same salt for equal passwords matters to no test here; the authorization matrix builds three staff per
    route, 0.26 s of scrypt each time)."""
    return scrypt_hash(password)


def headers_for(session, cfg, account) -> dict:
    from app.api import tokens

    pair = tokens.start_session(session, cfg, account)
    session.commit()
    return {"Authorization": f"Bearer {pair['access_token']}"}


def person(session, cfg, name="张三", *, district="140105", street="140105001", community="140105001001",
           household=None, birth=date(1950, 3, 3), sex="F", phone=None):
    i = next(_n)
    resident, id_number = make_resident(session, cfg, name=name, birth_date=birth, sex=sex,
                                        phone=phone or f"1390000{i:04d}", household_id=household or f"HH{i}",
                                        district=district, street=street, community=community)
    account = make_account(session, openid=f"o_authz_{i:024d}", resident=resident)
    return resident, account, id_number


def grant(session, principal, proxy_account, proxy_resident, scopes=("view", "confirm", "decline"), *,
          status="active", expires_in=timedelta(days=30), revoked=False, programs=()):
    now = utcnow()
    g = ProxyGrant(resident_id=principal.id, proxy_account_id=proxy_account.id, proxy_resident_id=proxy_resident.id,
                   status="revoked" if revoked else status, scopes=list(scopes), programs=list(programs),
                   relation="family", basis="test", evidence={}, created_by="test",
                   created_at=now - timedelta(days=1), activated_at=now - timedelta(days=1) if status == "active" else None,
                   expires_at=now + expires_in, revoked_at=now if revoked else None)
    session.add(g)
    session.flush()
    if g.status == "pending_approval":  # what flows.proxies.record_by_staff writes: the maker-checker approval
        session.add(Approval(kind="proxy_grant", subject_ref=f"grant:{g.id}", payload={"grant_id": g.id},
                             maker="test", state="pending", resident_id=principal.id))
    session.commit()
    return g


def application(session, resident, program="elderly_allowance", state="proposed") -> Application:
    a = Application(program=program, resident_id=resident.id, state=state, as_of=date(2026, 11, 25), prefill={},
                    trace=[])
    session.add(a)
    session.commit()
    return a


def task(session, resident, kind="data_correction", application_id=None) -> StaffTask:
    t = StaffTask(kind=kind, resident_id=resident.id, application_id=application_id,
                  district_code=resident.district_code, street_code=resident.street_code,
                  community_code=resident.community_code, details={}, due_at=utcnow() + timedelta(days=3))
    session.add(t)
    session.commit()
    return t


def staff(session, cfg, role="reviewer", district="140105", street=None, community=None, username=None,
          password="correct horse battery", resident_id=None, id_number=None, with_id=True):
    """A staff member with her own ID number on file (the resident's when `resident_id` is given, else a
    fresh synthetic one); `with_id=False` for one without (she records and approves no grants)."""
    from app.crypto import cipher_for
    from app.models import Resident
    from flows.staff import create_staff
    from tests.builders import make_id_number

    cipher = cipher_for(cfg)
    if with_id and id_number is None:
        id_number = (cipher.decrypt(session.get(Resident, resident_id).id_enc) if resident_id is not None
                     else make_id_number(date(1985, 6, 15)))
    with mock.patch("flows.staff.hash_password", _hash_once):
        s = create_staff(session, username=username or f"staff{next(_n)}", password=password, role=role,
                         district=district, street=street, community=community, resident_id=resident_id,
                         id_number=id_number if with_id else None, cipher=cipher)
    session.commit()
    from app.models import Account

    return s, headers_for(session, cfg, session.get(Account, s.account_id))
