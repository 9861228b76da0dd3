"""Data for benchmarks/api.py: residents aged 80+, their proposals (through the real scan), one signed-in
account each, and an access token per account signed with the server's key.

Residents, accounts and sign-in sessions go in through SQLAlchemy Core `insert()` executemany; the proposals
(with pre-filled fields, sources and an outbox row each) come from the production elderly-allowance scan, so
every application looks like one a resident would really see.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import func, insert, select

from app.api.tokens import issue_access_token
from app.crypto import cipher_for
from app.db import make_engine, utcnow
from app.idnumbers import check_char, mask
from app.models import Account, Application, AuthSession, OutboxMessage, Resident
from app.models.ids import new_id
from flows.dates import today_shanghai
from flows.programs.elderly_allowance import scan as elderly_allowance

CHUNK = 5_000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "秀英桂兰玉兰淑珍凤英建国德明志强淑兰"


@dataclass
class Pair:
    """A bearer token and the one application its account may see."""

    token: str
    application_id: str
    account_id: str


def _resident_rows(cfg, count: int, first_id: int, rng: random.Random) -> list[dict]:
    cipher, today, now = cipher_for(cfg), today_shanghai(), utcnow()
    rows = []
    for n in range(count):
        rid = first_id + n
        born = today - timedelta(days=rng.randint(80 * 366, 95 * 365))
        body = f"140105{born:%Y%m%d}{rid % 999 + 1:03d}"
        number = body + check_char(body)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN[::2]) + rng.choice(GIVEN[1::2])
        rows.append({
            "id": rid, "id_hash": cipher.lookup_hash(f"bench-{rid}", "id"), "id_enc": cipher.encrypt(number),
            "id_mask": mask(number), "name": name, "sex": "F", "birth_date": born, "household_id": f"HB{rid}",
            "relation_to_head": "户主", "district_code": "140105", "street_code": "140105001",
            "community_code": "140105001001", "hukou_local": True, "phone_hash": None, "phone_enc": None,
            "death_date": None, "row_hash": hashlib.sha256(f"bench{rid}".encode()).hexdigest(),
            "source": "population_registry", "source_date": today - timedelta(days=9), "updated_at": now,
        })
    return rows


def prepare(cfg, residents: int, seed: int = 1, progress=print) -> list[Pair]:
    """`residents` residents aged 80–95 → one proposal, one bound account and one live sign-in each.

    Returns one Pair per resident, in resident id order. Tokens live as long as `cfg.access_token_ttl`.
    """
    engine = make_engine(cfg.database_url)
    rng = random.Random(seed)
    with engine.connect() as conn:
        first = (conn.scalar(select(func.max(Resident.id))) or 0) + 1
    for start in range(0, residents, CHUNK):
        rows = _resident_rows(cfg, min(CHUNK, residents - start), first + start, rng)
        with engine.begin() as conn:
            conn.execute(insert(Resident.__table__), rows)
    progress(f"  {residents:,} residents inserted")
    result = elderly_allowance.scan_turning_80(cfg, today_shanghai())
    progress(f"  scan: {result.proposed:,} proposals ({result.mode}, {result.seconds:.1f} s)")

    with engine.connect() as conn:
        apps = dict(conn.execute(select(Application.resident_id, Application.id)
                                 .where(Application.resident_id >= first)).all())
    now = utcnow()
    pairs: list[Pair] = []
    accounts, sessions = [], []
    for rid in range(first, first + residents):
        account_id, session_id = new_id(), new_id()
        accounts.append({"id": account_id, "kind": "citizen", "openid": f"o_bench_{rid}", "unionid": None,
                         "resident_id": rid, "bound_at": now, "created_at": now, "last_login_at": now,
                         "disabled_at": None})
        sessions.append({"id": session_id, "account_id": account_id, "created_at": now, "auth_time": now,
                         "expires_at": now + timedelta(days=2), "revoked_at": None, "revoked_reason": None})
        token = issue_access_token(cfg, SimpleNamespace(id=account_id, kind="citizen"),
                                   SimpleNamespace(id=session_id))
        pairs.append(Pair(token, apps[rid], account_id))
    with engine.begin() as conn:
        for i in range(0, len(accounts), CHUNK):
            conn.execute(insert(Account.__table__), accounts[i:i + CHUNK])
            conn.execute(insert(AuthSession.__table__), sessions[i:i + CHUNK])
    progress(f"  {len(pairs):,} accounts, sign-in sessions and tokens")
    return pairs


def confirm_outcome(cfg, pairs: list[Pair]) -> dict:
    """After the confirm run: how many of these applications left `proposed`, and how many outbox rows each
    got for its decision (exactly one is right)."""
    engine = make_engine(cfg.database_url)
    ids = [p.application_id for p in pairs]
    decided, per_app = 0, {}
    with engine.connect() as conn:
        for i in range(0, len(ids), 900):
            chunk = ids[i:i + 900]
            decided += conn.scalar(select(func.count()).select_from(Application.__table__)
                                   .where(Application.id.in_(chunk), Application.state != "proposed"))
            for app_id, n in conn.execute(
                    select(OutboxMessage.application_id, func.count())
                    .where(OutboxMessage.application_id.in_(chunk), OutboxMessage.kind.in_(("approved", "rejected")))
                    .group_by(OutboxMessage.application_id)):
                per_app[app_id] = n
    rows = sum(per_app.values())
    return {"decided": decided, "outbox_rows": rows,
            "apps_with_one_row": sum(1 for n in per_app.values() if n == 1),
            "apps_with_other_count": sum(1 for n in per_app.values() if n != 1)}
