"""A data-key ring that cannot read the data is refused before anything changes (probe of 7 Dec 2026): a rotation
to a mistyped kid crashed on the first row and left a running rotation to that kid, which kept imports and
seeding refused until someone deleted it by hand; a backup made during a rotation named only the new key, and a
restore with that key alone passed its key check though two thirds of the rows were under the old one."""

from __future__ import annotations

import json
from types import SimpleNamespace

from sqlalchemy import func, select

from app.models import KeyRotation
from tests.api.test_data_key_rotation import BOTH, NEW, OLD, _zerotrip
from tests.integration.test_backup_restore import _target_url

MISTYPED = f"k3:{NEW}"  # the new key's bytes under a kid the data does not carry


def test_a_rotation_with_a_ring_that_cannot_read_the_data_changes_nothing(session, cfg):
    assert _zerotrip(cfg, f"default:{OLD}", "seed", "--people", "30").returncode == 0
    done = _zerotrip(cfg, MISTYPED, "keys", "rotate-data")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "default" in done.stderr and "nothing was changed" in done.stderr, done.stderr
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(KeyRotation)) == 0
    assert _zerotrip(cfg, f"default:{OLD}", "seed", "--people", "5").returncode == 0  # not blocked


def test_a_backup_during_a_rotation_needs_both_keys_to_restore(session, cfg, tmp_path):
    env_old = f"default:{OLD}"
    assert _zerotrip(cfg, env_old, "seed", "--people", "30").returncode == 0
    session.add(KeyRotation(to_kid="k2", state="running", step="residents", counts={}))  # as a killed run leaves it
    session.commit()
    folder = tmp_path / "mid"
    made = _zerotrip(cfg, BOTH, "db", "backup", "--out", str(folder))
    assert made.returncode == 0, made.stderr
    assert "rotation to k2 is running" in made.stderr
    kids = json.loads((folder / "manifest.json").read_text("utf-8"))["key_check"]["kids"]
    assert kids == ["default", "k2"]
    target = _target_url(cfg.database_url, tmp_path, "mid")
    only_new = _zerotrip(SimpleNamespace(database_url=target), f"k2:{NEW}", "db", "restore", str(folder))
    assert only_new.returncode == 1 and "default" in only_new.stderr and "Traceback" not in only_new.stderr, \
        only_new.stderr
