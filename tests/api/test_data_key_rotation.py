"""`zerotrip keys rotate-data`, killed with SIGKILL half-way and resumed: meanwhile the API serves residents
under either key; afterwards, with the old key gone from the ring, every resident binds, look-ups work, the
bind counters follow their resident, `audit verify` passes and no audit row was rewritten."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select, text

from app.crypto import FieldCipher, cipher_for, header
from app.models import KeyRotation, RateHit, Resident, StaffMember
from tests.authz import helpers as h
from tests.builders import make_resident
from tests.conftest import TEST_KEYS

OLD = TEST_KEYS["ZEROTRIP_DATA_KEY"]
NEW = "bmV3LWRhdGEta2V5LWZvci1yb3RhdGlvbi0yMDI2LTEy"
BOTH = f"k2:{NEW},default:{OLD}"
QUIET = 120  # seconds without progress before a wait gives up


def _env(cfg, ring: str) -> dict:
    return {**os.environ, "DATABASE_URL": cfg.database_url, "ZEROTRIP_DATA_KEYS": ring}


def _zerotrip(cfg, ring: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=_env(cfg, ring), capture_output=True,
                          text=True)


def _rotation(session) -> KeyRotation | None:
    session.expire_all()
    return session.execute(select(KeyRotation).order_by(KeyRotation.started_at.desc())).scalars().first()


def _wait_for_residents_batch(session, proc) -> None:
    """Until the rotation has committed a batch of residents; fail only when nothing moved for QUIET seconds."""
    seen, moved = None, time.monotonic()
    while True:
        row = _rotation(session)
        if row is not None and row.step == "residents" and row.last_key is not None:
            return
        assert proc.poll() is None, proc.stderr.read()
        now_seen = (row.step, row.last_key, row.counts.get("read")) if row else None
        if now_seen != seen:
            seen, moved = now_seen, time.monotonic()
        assert time.monotonic() - moved < QUIET, f"rotation made no progress for {QUIET}s: {seen}"
        time.sleep(0.05)


def _audit_digest(session, count: int) -> str:
    session.expire_all()
    rows = session.execute(text("SELECT * FROM audit_events ORDER BY seq")).all()[:count]
    return hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()


def _partner_files(folder, people) -> dict:
    (_, n2), (_, n3), (_, n4) = people[2], people[3], people[4]
    files = {
        "disability": ("id_number,certificate_number,category,grade,issue_date,expiry_date\n"
                       f"{n2},{n2}12,1,2,2020-01-01,2030-01-01\n"),
        "economic": ("id_number,kind,period,amount,quantity,ref,source\n"
                     f"{n3},real_estate,,0,1,JIN2020-0001234,real_estate\n"),
        "payout-accounts": ("id_number,kind,bank_name,account_number\n"
                            f"{n4},bank,中国银行,6217000010001234567\n"),
    }
    out = {}
    for kind, content in files.items():
        out[kind] = folder / f"{kind}.csv"
        out[kind].write_text(content, encoding="utf-8")
    return out


def _bound(resp) -> bool:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.json["account"]["identity_status"] == "bound"


def _v1(cfg, plaintext: str) -> bytes:
    """A ciphertext in the format used before key ids (01 | nonce | AES-GCM), under the old key."""
    nonce = os.urandom(12)
    aead = AESGCM(hashlib.sha256(b"enc:" + cfg.data_key_bytes).digest())
    return b"\x01" + nonce + aead.encrypt(nonce, plaintext.encode(), b"")


def _kids(session) -> set:
    session.expire_all()
    return {header(bytes(r.id_enc))[1] for r in session.execute(select(Resident)).scalars()}


def test_rotation_killed_half_way_resumes_and_everything_still_works(session, cfg, client, citizen, tmp_path):
    people = [make_resident(session, cfg, name=f"居民{i}", birth_date=date(1950, 1, 1) + timedelta(days=37 * i),
                            phone=f"1391234{i:04d}", household_id=f"HR{i:04d}") for i in range(40)]
    _, staff_headers = h.staff(session, cfg, "clerk", "140105")
    session.get(Resident, people[-1][0].id).id_enc = _v1(cfg, people[-1][1])  # written before kids existed
    session.commit()
    partner_files = _partner_files(tmp_path, people)
    for kind, path in partner_files.items():  # certificates, economic records, payout accounts under the old key
        done = _zerotrip(cfg, f"default:{OLD}", "import", kind, str(path))
        assert done.returncode == 0 and "imported=1" in done.stdout, done.stdout + done.stderr
    first = citizen()
    assert first.bind("别人", people[0][1], "13912340000").status_code == 409  # a failure: counter + attempt
    old_bucket = f"bind:id:{cipher_for(cfg).lookup_hash(people[0][1], 'id')}"
    assert session.get(RateHit, old_bucket) is not None
    audit_count = session.scalar(text("SELECT count(*) FROM audit_events"))
    audit_before = _audit_digest(session, audit_count)
    anchored = _zerotrip(cfg, f"default:{OLD}", "audit", "anchor", "--anchors", str(cfg.audit_anchor_path))
    assert anchored.returncode == 0, anchored.stdout + anchored.stderr  # verify below checks the chain against it

    # A 10 s pause after each full batch keeps the rotation running for minutes after its first batch of residents
    # (10 full batches of them; its lease is renewed per batch), so a slow second CLI call below cannot find it
    # finished; the steps before the residents hold fewer rows than a batch each and pass without a pause.
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "keys", "rotate-data", "--batch", "4", "--pause",
                             "10"], env=_env(cfg, BOTH), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_residents_batch(session, proc)
        second = _zerotrip(cfg, BOTH, "keys", "rotate-data")
        assert second.returncode != 0 and "lease" in second.stderr, "one rotation at a time"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert _rotation(session).state == "running"
    assert _kids(session) == {"k2", "default", None}, "killed half-way: some residents re-keyed, some not"

    # While the ring holds both keys the API serves residents of either kind.
    cfg.data_keys = BOTH
    assert _bound(first.bind(people[0][0].name, people[0][1], "13912340000"))
    last = citizen()
    assert _bound(last.bind(people[-1][0].name, people[-1][1], "13912340039"))
    report = tmp_path / "pop.csv"
    report.write_text("id_number,name,sex,birth_date,household_id,relation_to_head,district_code,street_code,"
                      "community_code,hukou_local,phone,death_date\n", encoding="utf-8")
    refused = _zerotrip(cfg, BOTH, "import", "population", str(report))
    assert refused.returncode != 0 and "rotation is running" in refused.stderr

    resumed = _zerotrip(cfg, BOTH, "keys", "rotate-data", "--batch", "7")  # takes over the killed run's lease
    assert resumed.returncode == 0, resumed.stderr
    assert _rotation(session).state == "finished" and "kid=k2" in resumed.stdout.splitlines()[-1]
    assert _kids(session) == {"k2"}

    # The old key leaves the ring: everything must work with the new key alone.
    cfg.data_keys = f"k2:{NEW}"
    only_new = FieldCipher(ring=cfg.data_keyring)
    for resident, number in people:
        row = session.get(Resident, resident.id)
        assert only_new.decrypt(row.id_enc) == number and row.id_hash == only_new.lookup_hash(number, "id")
    for i, (resident, number) in enumerate(people[1:-1], start=1):
        assert _bound(citizen().bind(resident.name, number, f"1391234{i:04d}")), i
    lookup = client.post("/api/v1/staff/residents/lookup", headers=staff_headers,
                         json={"id_number": people[5][1], "purpose": "home_visit"})
    assert lookup.status_code == 200 and lookup.json["name"] == people[5][0].name
    staff = session.execute(select(StaffMember)).scalars().one()
    assert header(bytes(staff.id_enc))[1] == "k2"
    assert session.get(RateHit, old_bucket) is None
    assert session.get(RateHit, f"bind:id:{only_new.lookup_hash(people[0][1], 'id')}") is not None

    for kind, path in partner_files.items():  # the same files again: each row found under the new key, unchanged
        done = _zerotrip(cfg, f"k2:{NEW}", "import", kind, str(path))
        assert done.returncode == 0 and "imported=0" in done.stdout and "unchanged=1" in done.stdout, done.stdout

    verify = _zerotrip(cfg, f"k2:{NEW}", "audit", "verify", "--anchors", str(cfg.audit_anchor_path))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert _audit_digest(session, audit_count) == audit_before, "audit rows are appended, never rewritten"
