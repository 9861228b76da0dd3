"""What departments' files and operators' mistakes do to `zerotrip import` (found by an operator's probe): each
bad row is rejected with a documented code and the good rows are imported; a second import of the same kind at
once is refused in one line (it crashed on the unique ID hash, printing rows of the file); a killed run's leases
are taken over on this host; no traceback."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import text

from app.db import make_engine
from flows import joblock
from flows.imports.first_load import LEASE, index_names
from tests.integration.test_import_first_load import SECONDARY
from tests.integration.test_import_population import person, report_rows, summary, write_csv

DEAD = f"{socket.gethostname()}:999999999"  # a process of this host that no longer exists


def _codes(result) -> list[str]:
    return sorted(r["reason"] for r in report_rows(summary(result)["report"]) if r["severity"] == "error")


def test_a_nul_or_a_huge_field_rejects_its_row_only(cli, tmp_path):
    rows = [person(1), person(2, name="张\x00三"), person(3, household_id="H00\x000003"), person(4, name="长" * 200_000),
            person(5)]
    result = cli("import", "population", str(write_csv(tmp_path / "p.csv", rows)))
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    got = summary(result)
    assert (got["imported"], got["rejected"]) == ("2", "3"), got
    assert _codes(result) == ["NAME_INVALID", "ROW_FORMAT", "ROW_FORMAT"]


def test_a_second_import_of_the_same_kind_at_once_is_refused_in_one_line(cli, cfg, tmp_path):
    path = str(write_csv(tmp_path / "p.csv", [person(1)]))
    assert joblock.acquire(cfg, "import:population", 600, owner="another-host:4242")
    try:
        refused = cli("import", "population", path)
        assert refused.exit_code == 2 and "another `zerotrip import population` is running (another-host:4242)" in \
            refused.output, refused.output
        assert "Traceback" not in refused.output
    finally:
        joblock.release(cfg, "import:population", owner="another-host:4242")
    # a run killed on this host leaves its lease to a process that is gone: the next one takes it over
    assert joblock.acquire(cfg, "import:population", 600, owner=DEAD)
    assert summary(cli("import", "population", path))["imported"] == "1"


def test_indexes_a_killed_first_load_left_are_built_though_its_lease_is_still_held(cli, cfg, tmp_path):
    engine = make_engine(cfg.database_url)
    assert summary(cli("import", "population", str(write_csv(tmp_path / "p.csv", [person(1)]))))["imported"] == "1"
    with engine.begin() as conn:  # what SIGTERM between the rows and the index build leaves: the lease too
        conn.execute(text("DROP INDEX ix_residents_household_id"))
    assert joblock.acquire(cfg, LEASE, 6 * 3600, owner=DEAD)
    assert summary(cli("import", "population", str(write_csv(tmp_path / "q.csv", [person(2)]))))["imported"] == "1"
    with engine.connect() as conn:
        assert SECONDARY <= index_names(conn, "residents")


def test_partner_amounts_and_keys_as_the_contract_says(cli, tmp_path):
    someone = person(1)
    assert summary(cli("import", "population", str(write_csv(tmp_path / "p.csv", [someone]))))["imported"] == "1"
    number = someone["id_number"]
    economic = tmp_path / "e.csv"
    economic.write_text("id_number,kind,period,amount,quantity,ref,source\n"
                        f"{number},real_estate,,30000000.00,1,CERT-1,real_estate\n"
                        f"{number},real_estate,,2000000.00,1,CERT-2,real_estate\n", encoding="utf-8")
    result = cli("import", "economic", str(economic))
    assert result.exit_code == 0 and (summary(result)["imported"], summary(result)["rejected"]) == ("1", "1"), \
        result.output
    assert _codes(result) == ["AMOUNT_INVALID"]

    wide = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in number)  # the same person in full width
    care = tmp_path / "c.csv"
    care.write_text("id_number,assessed_on,level,assessor\n"
                    f"{number},2026-11-01,2,张医生\n{wide},2026-11-01,3,李医生\n", encoding="utf-8")
    result = cli("import", "care-assessments", str(care))
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert _codes(result) == ["DUPLICATE_ID", "DUPLICATE_ID"]


@pytest.mark.parametrize("waived", ["Infinity", "sNaN", "1e3", "-5"])
def test_a_cremation_amount_is_written_as_an_amount(cli, tmp_path, waived):
    from flows.imports.cremations import COLUMNS

    arranger = person(2)
    assert summary(cli("import", "population", str(write_csv(tmp_path / "p.csv", [person(1), arranger]))))
    row = {"id_number": person(1)["id_number"], "funeral_home": "太原市殡仪馆", "cremation_date": "2026-11-20",
           "arranger_name": arranger["name"], "arranger_id_number": arranger["id_number"],
           "arranger_phone": arranger["phone"], "services": "basic", "waived_amount": waived}
    path = write_csv(tmp_path / "c.csv", [row], columns=COLUMNS)
    result = cli("import", "cremations", str(path))
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert "WAIVED_AMOUNT_INVALID" in _codes(result)


def test_sigterm_ends_a_first_load_as_ctrl_c_does_indexes_built_leases_released(cfg, tmp_path):
    """SIGTERM mid-load (a service manager's stop): the batch rolls back, the first load's dropped indexes are
    built and both leases released — the process used to vanish and leave them for hours. Waits on the
    import's progress line, not on the clock; a machine fast enough to finish first still checks the end."""
    import os
    import signal
    import subprocess
    import sys
    from datetime import date

    from flows import synthetic_city

    big = tmp_path / "big.csv"
    synthetic_city.write_population_csv(big, synthetic_city.people(60_000, 3, date(2026, 12, 1)))
    env = {**os.environ, "DATABASE_URL": cfg.database_url, "ZEROTRIP_IMPORT_WORKERS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "import", "population", str(big)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:  # the first progress line: rows are being written
        if line.startswith("population: ") and not line.startswith("population: 0/"):
            proc.send_signal(signal.SIGTERM)
            break
    out, err = proc.communicate()
    assert "Traceback" not in err, err
    engine = make_engine(cfg.database_url)
    with engine.connect() as conn:
        assert SECONDARY <= index_names(conn, "residents")
    for lease in ("import:population", LEASE):
        assert joblock.acquire(cfg, lease, 60, owner="another-host:1"), lease
        joblock.release(cfg, lease, owner="another-host:1")


def test_a_file_that_shrank_while_it_was_imported_is_said_and_exits_1(cfg, tmp_path, capsys, monkeypatch):
    """The survey counted the rows, the load read fewer (the file was cut or replaced meanwhile): the run says so
    and exits 1 instead of 0 with a batch that looks complete."""
    from app.cli import import_cmd

    monkeypatch.setenv("DATABASE_URL", cfg.database_url)

    def cut_short(_cfg, _path, progress, on_total):
        on_total(10)
        return {"imported": 4, "updated": 0, "unchanged": 0, "rejected": 0, "warnings": 0, "report": "r.csv",
                "batch": "b"}

    with pytest.raises(SystemExit) as stopped:
        import_cmd.run_import(cut_short, str(tmp_path / "people.csv"), "population")
    assert stopped.value.code == 1
    err = capsys.readouterr().err
    assert "people.csv changed while it was imported (4 of the 10 rows surveyed were read)" in err


def test_a_file_without_its_header_line_is_refused_without_printing_its_first_row(cli, tmp_path):
    """The first line is read as the header; when it is a resident's row, the refusal named its values as
    unknown columns: name, phone and birth date in clear on stderr (a 6 MB line, 6 MB of it)."""
    row = person(1)
    path = tmp_path / "p.csv"
    path.write_text(",".join(row.values()) + "\n", encoding="utf-8")
    result = cli("import", "population", str(path))
    assert result.exit_code == 2 and "wrong header" in result.output, result.output
    for value in (row["name"], row["phone"], row["birth_date"], row["id_number"], row["household_id"].lower()):
        assert value and value not in result.output, value
    assert "not shown" in result.output and "missing columns: id_number" in result.output
    odd = tmp_path / "odd.csv"
    odd.write_text("id_number,name,sex,birth_date,household_id,relation_to_head,district_code,street_code,"
                   "community_code,hukou_local,phone,death_date,nickname\n", encoding="utf-8")
    assert "unknown columns: nickname" in cli("import", "population", str(odd)).output
