"""`zerotrip import population FILE`: contract of the population CSV, reject report, upsert, encryption."""

from __future__ import annotations

import csv
import re
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.crypto import cipher_for
from app.idnumbers import check_char
from app.models import ImportBatch, Resident
from flows.imports.batch import local_today
from flows.imports.reference import REASONS
from flows.imports.validation import POPULATION_COLUMNS

FULL_ID = re.compile(r"\d{17}[\dXx]")


def make_id(birth: str, seq: int, area: str = "140105") -> str:
    """A synthetic ID number: area, birth date YYYYMMDD, sequence (odd = male), computed check character."""
    body = f"{area}{birth}{seq:03d}"
    return body + check_char(body)


def person(n: int = 1, **overrides) -> dict[str, str]:
    row = {
        "id_number": make_id("19561120", 2 * n), "name": f"王秀{n}", "sex": "F", "birth_date": "1956-11-20",
        "household_id": f"H{n:04d}", "relation_to_head": "户主", "district_code": "140105",
        "street_code": "140105001", "community_code": "140105001001", "hukou_local": "true",
        "phone": f"1380013{n:04d}", "death_date": "",
    }
    row.update(overrides)
    return row


def write_csv(path: Path, rows: list[dict], columns=POPULATION_COLUMNS, bom=False, crlf=False,
              encoding="utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        if bom:
            f.write("\ufeff")
        writer = csv.DictWriter(f, fieldnames=list(columns), lineterminator="\r\n" if crlf else "\n",
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def summary(result) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in result.stdout.strip().splitlines()[-1].split())


def report_rows(path: str) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def run_import(cli, path):
    result = cli("import", "population", str(path))
    assert result.exit_code == 0, result.stderr
    return summary(result)


def test_bom_crlf_and_columns_in_another_order(cli, session, cfg, tmp_path):
    rows = [person(1), person(2, sex="男", id_number=make_id("19561120", 3), relation_to_head="10"),
            person(3, sex="2", hukou_local="否", phone="+86 138-0013-9999", relation_to_head="长女")]
    path = write_csv(tmp_path / "p.csv", rows, columns=tuple(reversed(POPULATION_COLUMNS)), bom=True, crlf=True)
    counts = run_import(cli, path)
    assert (counts["imported"], counts["updated"], counts["unchanged"], counts["rejected"]) == ("3", "0", "0", "0")
    people = {r.name: r for r in session.scalars(select(Resident))}
    assert people["王秀2"].sex == "M" and people["王秀2"].relation_to_head == "配偶"
    third = people["王秀3"]
    assert (third.sex, third.hukou_local, third.relation_to_head) == ("F", False, "女")
    assert third.phone_hash == cipher_for(cfg).lookup_hash("13800139999", "phone")
    assert cipher_for(cfg).decrypt(third.phone_enc) == "13800139999"
    first = people["王秀1"]
    assert cipher_for(cfg).decrypt(first.id_enc) == rows[0]["id_number"]
    assert first.id_hash == cipher_for(cfg).lookup_hash(rows[0]["id_number"], "id")
    assert first.id_mask == rows[0]["id_number"][0] + "*" * 16 + rows[0]["id_number"][-1]
    assert (first.source, first.source_date, first.birth_date) == ("population_registry", local_today(cfg),
                                                                  date(1956, 11, 20))


@pytest.mark.parametrize(
    "columns",
    [POPULATION_COLUMNS[:-1], (*POPULATION_COLUMNS, "email"), (*POPULATION_COLUMNS[:-1], "deathdate")],
    ids=["missing", "unknown", "misspelt"],
)
def test_wrong_header_exits_2_and_writes_nothing(cli, session, tmp_path, columns):
    path = write_csv(tmp_path / "p.csv", [person(1)], columns=columns)
    result = cli("import", "population", str(path))
    assert result.exit_code == 2
    assert "header" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert count(session, Resident) == 0 and count(session, ImportBatch) == 0


@pytest.mark.parametrize("encoding", ["latin-1", "gbk"])
def test_wrong_encoding_exits_2_and_writes_nothing(cli, session, tmp_path, encoding):
    latin = encoding == "latin-1"
    rows = [person(n, name=f"Wang {n}" if latin else f"王秀{n}", relation_to_head="02") for n in range(1, 50)]
    rows.append(person(50, name="José" if latin else "王秀英", relation_to_head="02"))
    path = write_csv(tmp_path / "p.csv", rows, encoding=encoding)
    result = cli("import", "population", str(path))
    assert result.exit_code == 2
    assert "UTF-8" in result.stderr
    assert count(session, Resident) == 0 and count(session, ImportBatch) == 0


def test_unreadable_or_empty_file_exits_2(cli, session, tmp_path):
    missing = cli("import", "population", str(tmp_path / "nope.csv"))
    (tmp_path / "empty.csv").write_bytes(b"")
    empty = cli("import", "population", str(tmp_path / "empty.csv"))
    assert (missing.exit_code, empty.exit_code) == (2, 2)
    assert "cannot read" in missing.stderr and "empty" in empty.stderr
    assert count(session, ImportBatch) == 0


def bad_rows(today: date) -> list[tuple[str, dict[str, str]]]:
    """One row per error reason (each otherwise valid)."""
    future = (today + timedelta(days=1)).strftime("%Y%m%d")
    good = make_id("19561120", 40)
    return [
        ("ROW_FORMAT", None),
        ("ID_FORMAT", person(10, id_number=good[:17])),
        ("ID_CHECKSUM", person(11, id_number=good[:17] + ("1" if good[17] != "1" else "2"))),
        ("ID_BIRTH_DATE_INVALID", person(12, id_number=make_id("19560230", 24), birth_date="1956-02-28")),
        ("ID_BIRTH_DATE_FUTURE", person(13, id_number=make_id(future, 26), birth_date=(today + timedelta(days=1))
                                        .isoformat())),
        ("ID_BIRTH_MISMATCH", person(14, birth_date="1956-11-21")),
        ("ID_SEX_MISMATCH", person(15, sex="M")),
        ("NAME_MISSING", person(16, name=" ")),
        ("NAME_INVALID", person(17, name="王" * 65)),
        ("SEX_INVALID", person(18, sex="X")),
        ("BIRTH_DATE_INVALID", person(19, birth_date="20/11/1956")),
        ("HOUSEHOLD_MISSING", person(20, household_id="")),
        ("HOUSEHOLD_INVALID", person(21, household_id="H" * 33)),
        ("DISTRICT_UNKNOWN", person(22, district_code="140199", street_code="140199001",
                                    community_code="140199001001")),
        ("STREET_INVALID", person(23, street_code="14010500")),
        ("STREET_MISMATCH", person(24, street_code="140106001", community_code="140106001001")),
        ("COMMUNITY_INVALID", person(25, community_code="14010500100")),
        ("COMMUNITY_MISMATCH", person(26, community_code="140105002001")),
        ("HUKOU_INVALID", person(27, hukou_local="maybe")),
        ("PHONE_INVALID", person(28, phone="0351-1234567")),
        ("DEATH_DATE_INVALID", person(29, death_date=(today + timedelta(days=1)).isoformat())),
        ("DEATH_DATE_INVALID", person(30, death_date="1950-01-01")),
        ("DEATH_DATE_INVALID", person(31, death_date="2020-13-01")),
    ]


def test_every_reason_code_with_its_line_and_good_rows_still_go_in(cli, session, cfg, tmp_path):
    cases = bad_rows(local_today(cfg))
    path = tmp_path / "p.csv"
    write_csv(path, [person(1), person(2, relation_to_head="表亲")])
    with open(path, "a", encoding="utf-8") as f:  # line 4: a ragged row
        f.write("only,three,fields\n")
    write_csv(tmp_path / "rest.csv", [row for _, row in cases[1:]])
    with open(path, "a", encoding="utf-8") as f:
        f.write((tmp_path / "rest.csv").read_text(encoding="utf-8").split("\n", 1)[1])
    counts = run_import(cli, path)
    assert (counts["imported"], counts["rejected"], counts["warnings"]) == ("2", str(len(cases)), "1")
    report = report_rows(counts["report"])
    found = {(r["line"], r["reason"]) for r in report}
    expected = {(str(4 + i), code) for i, (code, _) in enumerate(cases)} | {("3", "RELATION_UNKNOWN")}
    assert expected <= found
    assert {r["reason"] for r in report} <= set(REASONS)
    assert {r["severity"] for r in report if r["reason"] == "RELATION_UNKNOWN"} == {"warning"}
    assert session.scalar(select(Resident.relation_to_head).where(Resident.name == "王秀2")) == "其他"
    assert count(session, Resident) == 2


def test_report_masks_ids_and_the_batch_is_recorded(cli, session, tmp_path):
    rows = [person(1, phone="12345"), person(2, sex="M")]
    counts = run_import(cli, write_csv(tmp_path / "p.csv", rows))
    text = Path(counts["report"]).read_text(encoding="utf-8-sig")
    assert not FULL_ID.search(text)
    masked = {r["id_masked"] for r in report_rows(counts["report"])}
    assert masked == {r["id_number"][0] + "*" * 16 + r["id_number"][-1] for r in rows}
    assert {r["line"] for r in report_rows(counts["report"])} == {"2", "3"}
    batch = session.scalars(select(ImportBatch)).one()
    assert (batch.kind, batch.file_name, batch.report_path) == ("population", "p.csv", counts["report"])
    assert batch.counts["rejected"] == 2 and batch.finished_at is not None and len(batch.file_sha256) == 64


def test_duplicate_id_rejects_all_its_rows(cli, session, tmp_path):
    rows = [person(1), person(2), person(3, id_number=person(1)["id_number"].lower(), name="王秀1b")]
    counts = run_import(cli, write_csv(tmp_path / "p.csv", rows))
    assert (counts["imported"], counts["rejected"]) == ("1", "2")
    assert {(r["line"], r["reason"]) for r in report_rows(counts["report"])} == {("2", "DUPLICATE_ID"),
                                                                                ("4", "DUPLICATE_ID")}
    assert session.scalars(select(Resident.name)).all() == ["王秀2"]


def test_reimport_touches_no_row_and_a_change_updates_one(cli, session, tmp_path):
    rows = [person(n) for n in range(1, 6)]
    path = write_csv(tmp_path / "p.csv", rows)
    assert run_import(cli, path)["imported"] == "5"
    before = dict(session.execute(select(Resident.id, Resident.updated_at)).all())
    again = run_import(cli, path)
    assert (again["imported"], again["updated"], again["unchanged"]) == ("0", "0", "5")
    session.expire_all()
    assert dict(session.execute(select(Resident.id, Resident.updated_at)).all()) == before
    rows[2]["phone"] = "13999999999"
    changed = run_import(cli, write_csv(tmp_path / "p.csv", rows))
    assert (changed["imported"], changed["updated"], changed["unchanged"]) == ("0", "1", "4")
    session.expire_all()
    after = dict(session.execute(select(Resident.id, Resident.updated_at)).all())
    assert [rid for rid in after if after[rid] != before[rid]] == [3]


def test_real_world_edge_cases_are_accepted(cli, session, cfg, tmp_path):
    today = local_today(cfg)
    born_today = today.strftime("%Y%m%d")
    rows = [
        person(1, id_number=make_id("19460315", 2), birth_date="1946-03-15"),  # 小店区 code, born 1946
        person(2, id_number=make_id("19480229", 4, "140181"), birth_date="1948-02-29", district_code="140181",
               street_code="140181003", community_code="140181003002"),
        person(3, id_number=make_id(born_today, 6), birth_date=today.isoformat(), phone=""),
        person(4, id_number=make_id("19300101", 8, "142301"), birth_date="1930-01-01", death_date="2025-01-01"),
    ]
    counts = run_import(cli, write_csv(tmp_path / "p.csv", rows))
    assert (counts["imported"], counts["rejected"]) == ("4", "0")
    assert session.scalar(select(Resident.phone_hash).where(Resident.name == "王秀3")) is None
    assert session.scalar(select(Resident.death_date).where(Resident.name == "王秀4")) == date(2025, 1, 1)


def test_no_id_number_in_clear_in_the_database_file(cli, session, cfg, tmp_path):
    if not cfg.is_sqlite:
        pytest.skip("reads the SQLite file's bytes")
    rows = [person(n, phone=f"1390000{n:04d}") for n in range(1, 21)]
    run_import(cli, write_csv(tmp_path / "p.csv", rows))
    session.close()
    db_file = Path(cfg.database_url.removeprefix("sqlite:///"))
    # Read by another process: closing a file descriptor of the database in THIS process would drop every POSIX
    # lock this process's SQLite connections hold on it (SQLite's documented caveat), and the next process to
    # open the database would then rebuild the WAL index under them.
    files = sorted(str(p) for p in db_file.parent.glob(db_file.name + "*"))
    raw = subprocess.run(["cat", *files], capture_output=True, check=True).stdout
    for row in rows:
        assert row["id_number"].encode() not in raw
        assert row["phone"].encode() not in raw


def test_every_reason_code_is_documented():
    contract = (Path(__file__).resolve().parents[2] / "docs" / "data-contracts.md").read_text(encoding="utf-8")
    assert [code for code in REASONS if f"| `{code}` |" not in contract] == []
