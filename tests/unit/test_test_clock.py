"""The one test clock: ZEROTRIP_FAKE_TODAY (every process: API, scheduler, CLI) and
`zerotrip scheduler run-once --as-of`; both refused in production (ZEROTRIP_ENV=production)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.config import ConfigError, load_config
from app.models import Application
from flows.dates import FakeClockRefused, today_shanghai
from tests.builders import make_resident


def _proof_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


# every key production needs, so that only the test clock is what it refuses
PROD_KEYS = {"ZEROTRIP_ENV": "production", "ZEROTRIP_SIGNING_KEY": "s" * 43, "ZEROTRIP_DATA_KEY": "d" * 43,
             "ZEROTRIP_PROOF_KEY": _proof_key()}


def test_fake_today_moves_today_and_is_refused_in_production(monkeypatch):
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2027-02-28")
    assert today_shanghai() == date(2027, 2, 28)
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2027-02-30")
    with pytest.raises(FakeClockRefused):
        today_shanghai()
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2027-02-28")
    monkeypatch.setenv("ZEROTRIP_ENV", "production")
    with pytest.raises(FakeClockRefused):
        today_shanghai()
    with pytest.raises(ConfigError, match="ZEROTRIP_FAKE_TODAY"):
        load_config(environ={**PROD_KEYS, "ZEROTRIP_FAKE_TODAY": "2027-02-28"})
    monkeypatch.delenv("ZEROTRIP_FAKE_TODAY")
    monkeypatch.delenv("ZEROTRIP_ENV")
    assert today_shanghai() != date(2027, 2, 28) or date.today() == date(2027, 2, 28)


def test_scheduler_run_once_as_of_runs_the_day_and_is_refused_in_production(session, cfg, cli):
    person, _ = make_resident(session, cfg, birth_date=date(1946, 11, 25))
    ran = cli("scheduler", "run-once", "--as-of", "2026-11-24")
    assert ran.exit_code == 0, ran.output
    assert session.scalars(select(Application).where(Application.resident_id == person.id)).all() == []
    ran = cli("scheduler", "run-once", "--as-of", "2026-11-25")  # the 80th birthday: proposed that day
    assert ran.exit_code == 0, ran.output
    assert ran.stdout.strip().splitlines()[-1] == "scheduler=run-once as_of=2026-11-25"
    session.expire_all()
    proposed = session.scalars(select(Application).where(Application.resident_id == person.id)).all()
    assert [(a.program, a.state, a.as_of) for a in proposed] == [("elderly_allowance", "proposed", date(2026, 11, 25))]

    from click.testing import CliRunner

    from app.cli import cli as zerotrip

    refused = CliRunner().invoke(zerotrip, ["scheduler", "run-once", "--as-of", "2026-11-26"],
                                 env={"DATABASE_URL": cfg.database_url, **PROD_KEYS})
    assert refused.exit_code != 0 and "refused in production" in refused.output
