"""An import or a seed under a key ring that cannot read the stored data (ZEROTRIP_DATA_KEYS naming only a new
key) keyed every row under a key the stored ones are not: each resident of the file was inserted a second time
beside herself, and the rotation that followed failed on the duplicates. Now refused in one line, nothing written."""

from __future__ import annotations

import csv

from sqlalchemy import func, select

from app.models import Resident
from flows.imports.validation import POPULATION_COLUMNS
from flows.synthetic_city import people
from tests.integration.test_backup_restore import OTHER_KEY, _zerotrip


def test_an_import_or_a_seed_under_a_ring_without_the_data_s_key_is_refused(cfg, session, tmp_path):
    env = {"DATABASE_URL": cfg.database_url}
    assert _zerotrip(env, "seed", "--people", "20").returncode == 0
    before = session.scalar(select(func.count()).select_from(Resident))
    path = tmp_path / "population.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=POPULATION_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(people(20))  # the same residents the seed wrote
    wrong = {**env, "ZEROTRIP_DATA_KEYS": f"k2:{OTHER_KEY}"}
    imported = _zerotrip(wrong, "import", "population", str(path))
    assert imported.returncode == 2 and "not in the key ring" in imported.stderr, imported.stdout + imported.stderr
    seeded = _zerotrip(wrong, "seed", "--people", "20")
    assert seeded.returncode != 0 and "not in the key ring" in seeded.stderr, seeded.stdout + seeded.stderr
    assert "Traceback" not in imported.stderr + seeded.stderr
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Resident)) == before
    right = _zerotrip(env, "import", "population", str(path))
    assert right.returncode == 0 and "unchanged=" in right.stdout.splitlines()[-1], right.stdout + right.stderr
