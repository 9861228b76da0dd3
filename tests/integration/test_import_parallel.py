"""Issue 17 item 1a: on PostgreSQL a population file is validated, encrypted and written by several processes
(`ZEROTRIP_IMPORT_WORKERS`), with the same summary, reject report (line by line, in file order) and rows as the
import in one process; SQLite, and a file with a record over several lines, stay in one process."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, select

from app.crypto import cipher_for
from app.models import Resident
from flows.imports import parallel
from flows.imports.batch import local_today
from tests.integration.test_import_population import bad_rows, person, report_rows, run_import, write_csv


def _messy_file(path: Path, today) -> Path:
    """Many blocks' worth of rows with every kind of problem spread over them: each reason code, a warning,
    a ragged row, an ID number repeated far apart, a foreign digit, blank lines; BOM and CRLF line ends."""
    rows = [person(n) for n in range(100, 220)]  # bad_rows uses 10–31
    rows[5]["relation_to_head"] = "表亲"  # a warning: stored as 其他
    rows[100]["id_number"] = rows[3]["id_number"].lower()  # repeated: both rows rejected
    rows[60]["household_id"] = "H٣٣"  # an Arabic-Indic digit
    for i, (_, row) in enumerate(bad_rows(today)[1:]):
        rows.insert(7 + 4 * i, row)
    write_csv(path, rows, bom=True, crlf=True)
    lines = path.read_bytes().split(b"\r\n")
    lines.insert(40, b"only,three,fields")
    lines[70:70] = [b"", b""]
    path.write_bytes(b"\r\n".join(lines))
    return path


def _stored(session, cfg) -> list[tuple]:
    cipher = cipher_for(cfg)
    session.expire_all()
    return sorted((cipher.decrypt(r.id_enc), r.name, r.birth_date, r.household_id, r.relation_to_head,
                   r.phone_hash, cipher.decrypt(r.phone_enc) if r.phone_enc else None, r.row_hash)
                  for r in session.scalars(select(Resident)))


def test_several_processes_give_the_serial_import_s_summary_report_and_rows(cli, session, cfg, tmp_path, db_url,
                                                                           monkeypatch):
    path = _messy_file(tmp_path / "p.csv", local_today(cfg))
    monkeypatch.setattr(parallel, "BLOCK_BYTES", 1500)  # a dozen rows a block: many blocks, several in flight
    monkeypatch.setenv("ZEROTRIP_IMPORT_WORKERS", "2")
    several = run_import(cli, path)
    several_rows = _stored(session, cfg)
    session.execute(delete(Resident))
    session.commit()
    monkeypatch.setenv("ZEROTRIP_IMPORT_WORKERS", "1")
    one = run_import(cli, path)
    assert one["processes"] == "1"
    assert several["processes"] == ("2" if db_url.startswith("postgresql") else "1")
    keys = ("imported", "updated", "unchanged", "rejected", "warnings")
    assert [several[k] for k in keys] == [one[k] for k in keys], (several, one)
    assert int(one["imported"]) > 100 and int(one["rejected"]) > 20 and one["warnings"] == "1"
    assert report_rows(several["report"]) == report_rows(one["report"])
    assert [r["line"] for r in report_rows(one["report"])] == sorted(
        (r["line"] for r in report_rows(one["report"])), key=int)
    assert several_rows == _stored(session, cfg) and len(several_rows) == int(one["imported"])


def test_a_record_over_two_lines_keeps_the_import_in_one_process(cli, session, tmp_path, monkeypatch):
    rows = [person(n) for n in range(1, 30)]
    rows[10]["name"] = "王\n秀"  # quoted, with a line break inside: blocks cut at line ends would split it
    monkeypatch.setenv("ZEROTRIP_IMPORT_WORKERS", "2")
    result = run_import(cli, write_csv(tmp_path / "p.csv", rows))
    assert (result["processes"], result["imported"]) == ("1", "29"), result


@pytest.mark.parametrize("value", ["-1", "17", "two"])
def test_a_wrong_worker_count_is_refused_by_name(cli, tmp_path, monkeypatch, value):
    monkeypatch.setenv("ZEROTRIP_IMPORT_WORKERS", value)
    result = cli("import", "population", str(write_csv(tmp_path / "p.csv", [person(1)])))
    assert result.exit_code != 0 and "ZEROTRIP_IMPORT_WORKERS" in (result.stderr + result.stdout), result.stdout


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_a_signal_to_the_whole_process_group_ends_the_import_in_one_line(cfg, db_url, tmp_path, sig):
    """A terminal's Ctrl-C or a service manager's stop signals the importing process and its workers at once.
    The importing process used to hang for good at exit (its queue's thread writing a 1 MB block into a pipe no
    worker read any more) and the workers printed tracebacks. Waits on the import's first progress line and on
    the process's CPU time, never on the clock."""
    import os
    import signal
    import subprocess
    import sys
    from datetime import date

    from flows import synthetic_city
    from tests.waiting import wait_exit

    if not db_url.startswith("postgresql"):
        pytest.skip("worker processes load on PostgreSQL only")
    big = tmp_path / "big.csv"
    synthetic_city.write_population_csv(big, synthetic_city.people(200_000, 5, date(2026, 12, 1)))
    env = {**os.environ, "DATABASE_URL": cfg.database_url, "ZEROTRIP_IMPORT_WORKERS": "2"}
    proc = subprocess.Popen(  # its own process group, SIGINT not inherited as ignored
        [sys.executable, "-c", "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                               "sys.argv[1:] = ['import', 'population', sys.argv[1]]; "
                               "from app.cli import main; main()", str(big)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        for line in proc.stderr:  # the workers have started: the survey or the load is under way
            if line.startswith("population: "):
                break
        os.killpg(proc.pid, getattr(signal, sig))
        assert wait_exit(proc, what=f"the import after {sig} to its group") != 0
        err = proc.stderr.read()
        assert "Traceback" not in err and "Aborted!" in err, err
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
