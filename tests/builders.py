"""Test data builders: synthetic residents with valid, computed ID numbers (never real people)."""

from __future__ import annotations

import hashlib
import itertools
from datetime import date

from app.crypto import cipher_for
from app.db import utcnow
from app.idnumbers import check_char, mask
from app.models import Account, Resident

_seq = itertools.count(1)


def make_id_number(birth: date, sex: str = "F", area: str = "140105") -> str:
    n = next(_seq) % 499  # seq = 2n + 1|2 stays within three digits (≤ 998)
    seq = n * 2 + (1 if sex == "M" else 2)
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + check_char(body)


def make_resident(session, cfg, *, name="李秀英", birth_date=date(1946, 11, 20), sex="F", phone="13800138000",
                  hukou_local=True, death_date=None, household_id="H0001", district="140105",
                  street="140105001", community="140105001001", id_number=None, source_date=None,
                  relation="户主") -> tuple[Resident, str]:
    cipher = cipher_for(cfg)
    id_number = id_number or make_id_number(birth_date, sex, district)
    resident = Resident(
        id_hash=cipher.lookup_hash(id_number, "id"),
        id_enc=cipher.encrypt(id_number),
        id_mask=mask(id_number),
        name=name,
        sex=sex,
        birth_date=birth_date,
        household_id=household_id,
        relation_to_head=relation,
        district_code=district,
        street_code=street,
        community_code=community,
        hukou_local=hukou_local,
        phone_hash=cipher.lookup_hash(phone, "phone") if phone else None,
        phone_enc=cipher.encrypt(phone) if phone else None,
        death_date=death_date,
        row_hash=hashlib.sha256(f"{id_number}{name}{birth_date}".encode()).hexdigest(),
        source_date=source_date or date(2026, 11, 25),
        updated_at=utcnow(),
    )
    session.add(resident)
    session.commit()
    return resident, id_number


def make_account(session, openid="o_test_openid_0000000000000001", resident=None) -> Account:
    account = Account(openid=openid, resident_id=resident.id if resident else None,
                      bound_at=utcnow() if resident else None)
    session.add(account)
    session.commit()
    return account
