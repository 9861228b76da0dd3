"""Imports and `seed` while the data-key ring holds the new key and the old one (docs/keys.md: the ring is set
first, the rotation runs after): every look-up matches a row under either key, so nothing is imported twice and
nobody is "unknown"; a row written meanwhile is re-keyed whole; after the rotation, the new key alone finds all."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import func, select

from app.config import data_key_material
from app.crypto import FieldCipher
from app.models import Benefit, DisabilityCertificate, PayoutAccount, Resident
from tests.conftest import TEST_KEYS
from tests.integration.test_import_population import person, write_csv

OLD = TEST_KEYS["ZEROTRIP_DATA_KEY"]
NEW = "bmV3LWRhdGEta2V5LWZvci1yb3RhdGlvbi0yMDI2LTEy"
ONLY_OLD, BOTH, ONLY_NEW = f"default:{OLD}", f"k2:{NEW},default:{OLD}", f"k2:{NEW}"


def _zerotrip(cfg, ring: str, *args: str) -> dict[str, str]:
    """`zerotrip …` in-process (each command reads its configuration, the ring included, from the environment when
    it starts: a process per command cost 1.5 s of imports each, 16 times)."""
    from app.cli import cli as zerotrip

    done = CliRunner().invoke(zerotrip, list(args), env={"DATABASE_URL": cfg.database_url,
                                                         "ZEROTRIP_DATA_KEYS": ring})
    assert done.exit_code == 0, (done.output, done.exception)
    return dict(pair.split("=", 1) for pair in done.stdout.strip().splitlines()[-1].split())


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _files(tmp_path, people: list[dict], expiry: str = "2030-01-01") -> dict:
    n1, n2, n3 = (p["id_number"] for p in people[:3])
    contents = {
        "population": None,
        "beneficiaries": f"id_number,program,monthly_amount,start_month\n{n1},elderly_allowance,50.00,2026-01\n",
        "disability": ("id_number,certificate_number,category,grade,issue_date,expiry_date\n"
                       f"{n2},{n2}12,1,2,2020-01-01,{expiry}\n"),
        "payout-accounts": f"id_number,kind,bank_name,account_number\n{n3},bank,中国银行,6217000010001234567\n",
    }
    out = {"population": write_csv(tmp_path / "population.csv", people)}
    for kind, content in contents.items():
        if content is not None:
            out[kind] = tmp_path / f"{kind}-{expiry}.csv"
            out[kind].write_text(content, encoding="utf-8")
    return out


def test_imports_and_seed_find_rows_under_either_key_until_the_rotation_ends(session, cfg, tmp_path):
    people = [person(n) for n in range(1, 31)]
    files = _files(tmp_path, people)
    for kind in ("population", "beneficiaries", "disability", "payout-accounts"):
        assert _zerotrip(cfg, ONLY_OLD, "import", kind, str(files[kind]))["imported"] in ("1", "30")
    seeded = _zerotrip(cfg, ONLY_OLD, "seed", "--people", "50")
    total = _count(session, Resident)
    assert total == 30 + int(seeded["imported"])

    # The ring now holds the new key first and the old one; nothing has been re-keyed yet.
    again = _zerotrip(cfg, BOTH, "import", "population", str(files["population"]))
    assert (again["imported"], again["updated"], again["unchanged"]) == ("0", "0", "30")
    assert _zerotrip(cfg, BOTH, "seed", "--people", "50")["imported"] == "0"
    assert _count(session, Resident) == total
    assert _zerotrip(cfg, BOTH, "import", "beneficiaries", str(files["beneficiaries"]))["unchanged"] == "1"
    assert _zerotrip(cfg, BOTH, "import", "payout-accounts", str(files["payout-accounts"]))["unchanged"] == "1"
    renewed = _files(tmp_path, people, expiry="2032-01-01")["disability"]  # renewed
    renewal = _zerotrip(cfg, BOTH, "import", "disability", str(renewed))
    assert (renewal["updated"], renewal["rejected"]) == ("1", "0"), renewal
    assert (_count(session, Benefit), _count(session, DisabilityCertificate), _count(session, PayoutAccount)) \
        == (1, 1, 1)

    moved = [dict(p, name="王改名") if i == 0 else p for i, p in enumerate(people)]
    changed = _zerotrip(cfg, BOTH, "import", "population", str(write_csv(tmp_path / "moved.csv", moved)))
    assert (changed["imported"], changed["updated"], changed["unchanged"]) == ("0", "1", "29")
    new = FieldCipher(ring=(("k2", data_key_material(NEW)),))
    session.expire_all()
    renamed = session.execute(select(Resident).where(Resident.name == "王改名")).scalar_one()
    assert renamed.id_hash == new.lookup_hash(people[0]["id_number"], "id")  # re-keyed whole when written

    assert _zerotrip(cfg, BOTH, "keys", "rotate-data")
    final = _zerotrip(cfg, ONLY_NEW, "import", "population", str(files["population"]))
    assert (final["imported"], final["updated"]) == ("0", "1")  # the first person's name goes back
    assert _zerotrip(cfg, ONLY_NEW, "import", "disability", str(renewed))["unchanged"] == "1"
    assert _zerotrip(cfg, ONLY_NEW, "import", "beneficiaries", str(files["beneficiaries"]))["unchanged"] == "1"
    assert _zerotrip(cfg, ONLY_NEW, "seed", "--people", "50")["imported"] == "0"
    assert _count(session, Resident) == total
