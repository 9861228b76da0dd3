"""Odd values an operator can type: refused with a clear message (exit 2) before anything is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Application


@pytest.mark.parametrize("args", [
    ("scan", "elderly-allowance", "--as-of", "9999-12-31"),  # wrote a proposal for everybody
    ("scan", "elderly-allowance", "--as-of", "0001-01-01"),  # ended in "year -79 is out of range"
    ("scheduler", "run-once", "--as-of", "1899-12-31"),
    ("payroll", "--month", "9999-12"),  # stored a draft roll of 286,704 anomalies
    ("payroll", "--month", "0000-01"),
    ("keys", "rotate-data", "--pause", "nan"),  # re-keyed a batch, then crashed in time.sleep
    ("keys", "rotate-data", "--pause", "-1"),
])
def test_out_of_range_days_months_and_pauses_are_refused(cli, session, args):
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and ("between" in result.output or "range" in result.output
                                                 or "number" in result.output), result.output
    assert session.scalar(select(func.count()).select_from(Application)) == 0


@pytest.mark.parametrize("months", ["0", "-1", "100000"])
def test_an_archive_retention_out_of_range_is_a_configuration_error(months):
    from app.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="ZEROTRIP_ARCHIVE_AFTER_MONTHS"):
        load_config({"archive_after_months": int(months)})


@pytest.mark.parametrize("args", [("payroll", "--month", "2026-12"), ("scheduler", "run-once"),
                                  ("scan", "elderly-allowance")])
def test_a_test_clock_that_is_no_day_is_one_line_exit_2(cli, session, monkeypatch, args):
    """ZEROTRIP_FAKE_TODAY=2027-13-01 ended `payroll` and `scheduler run-once` in a 40-line traceback."""
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2027-13-01")
    result = cli(*args)
    assert result.exit_code == 2 and "ZEROTRIP_FAKE_TODAY must be YYYY-MM-DD" in result.output, result.output
    assert "Traceback" not in result.output


def test_a_staff_username_or_name_out_of_shape_is_refused(cli, session):
    """A 100-character username on PostgreSQL ended in a traceback that printed the new account's password hash;
    `WANG` beside `wang` made two accounts a colleague cannot tell apart."""
    base = ("staff", "add", "--role", "clerk", "--district", "140105", "--password", "correct horse battery")
    assert cli(*base, "--username", "wang", "--id-number", "").exit_code == 0
    for username in ("x" * 100, "", " wang2 ", "WANG"):
        result = cli(*base, "--username", username, "--id-number", "")
        assert result.exit_code == 2 and "Traceback" not in result.output, (username, result.output)
        assert "$scrypt$" not in result.output and "scrypt" not in result.output


def test_an_instance_folder_that_cannot_be_made_is_a_configuration_error(tmp_path):
    """ZEROTRIP_INSTANCE_PATH naming a file (or a place under /proc) ended the first command in a traceback."""
    from app.config import ConfigError, load_config

    a_file = tmp_path / "instance"
    a_file.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="instance folder"):
        load_config({"instance_path": str(a_file), "database_url": f"sqlite:///{tmp_path / 'x.db'}",
                     "signing_key": "", "data_key": ""})


@pytest.mark.parametrize("spelling", ["Production", "prod", " production "])
def test_a_misspelt_production_is_refused_not_taken_for_development(tmp_path, spelling):
    from app.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="production is spelt"):
        load_config({"env": spelling, "instance_path": str(tmp_path), "database_url": f"sqlite:///{tmp_path / 'x.db'}"})
