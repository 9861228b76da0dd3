"""`zerotrip import beneficiaries FILE`: people already paid under the old process become active benefits."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from sqlalchemy import func, select

from app.idnumbers import check_char
from app.models import Benefit, ImportBatch, PayrollLine, Resident

COLUMNS = ("id_number", "program", "start_month", "monthly_amount")
POPULATION = ("id_number", "name", "sex", "birth_date", "household_id", "relation_to_head", "district_code",
              "street_code", "community_code", "hukou_local", "phone", "death_date")


def make_id(birth: str, seq: int) -> str:
    body = f"140105{birth}{seq:03d}"
    return body + check_char(body)


def write(path: Path, columns, rows) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def summary(result) -> dict[str, str]:
    assert result.exit_code == 0, result.stderr
    return dict(pair.split("=", 1) for pair in result.stdout.strip().splitlines()[-1].split())


def residents(cli, tmp_path) -> list[str]:
    """Four residents born 1940 (the fourth deceased); returns their ID numbers."""
    ids = [make_id("19400105", 2 * n) for n in range(1, 5)]
    rows = [(number, f"赵秀{n}", "F", "1940-01-05", f"H{n}", "户主", "140105", "140105001", "140105001001",
             "true", "", "2026-01-02" if n == 4 else "") for n, number in enumerate(ids, start=1)]
    assert summary(cli("import", "population", str(write(tmp_path / "pop.csv", POPULATION, rows))))["imported"] == "4"
    return ids


def report(path: str) -> set[tuple[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return {(r["line"], r["reason"]) for r in csv.DictReader(f)}


def test_beneficiaries_become_active_legacy_benefits(cli, session, tmp_path):
    ids = residents(cli, tmp_path)
    rows = [(ids[0], "elderly_allowance", "2020-02", "100.00"), (ids[1], "elderly_allowance", "2021-07", "100"),
            (ids[1].lower(), "dibao", "2024-01", "812.5")]
    counts = summary(cli("import", "beneficiaries", str(write(tmp_path / "b.csv", COLUMNS, rows))))
    assert (counts["imported"], counts["updated"], counts["unchanged"], counts["rejected"]) == ("3", "0", "0", "0")
    benefits = session.execute(
        select(Resident.name, Benefit.program, Benefit.monthly_amount_fen, Benefit.start_month, Benefit.state,
               Benefit.origin, Benefit.application_id).join(Resident, Resident.id == Benefit.resident_id)
        .order_by(Resident.name, Benefit.program)).all()
    assert [tuple(b) for b in benefits] == [
        ("赵秀1", "elderly_allowance", 10000, "2020-02", "active", "legacy", None),
        ("赵秀2", "dibao", 81250, "2024-01", "active", "legacy", None),
        ("赵秀2", "elderly_allowance", 10000, "2021-07", "active", "legacy", None),
    ]
    batch = session.scalars(select(ImportBatch).where(ImportBatch.kind == "beneficiaries")).one()
    assert batch.counts["imported"] == 3


def test_reimport_is_unchanged_and_a_new_amount_updates(cli, session, tmp_path):
    ids = residents(cli, tmp_path)
    rows = [[ids[0], "elderly_allowance", "2020-02", "100.00"], [ids[1], "elderly_allowance", "2021-07", "100.00"]]
    path = write(tmp_path / "b.csv", COLUMNS, rows)
    summary(cli("import", "beneficiaries", str(path)))
    again = summary(cli("import", "beneficiaries", str(path)))
    assert (again["imported"], again["updated"], again["unchanged"]) == ("0", "0", "2")
    rows[1][3] = "300.00"
    changed = summary(cli("import", "beneficiaries", str(write(tmp_path / "b.csv", COLUMNS, rows))))
    assert (changed["imported"], changed["updated"], changed["unchanged"]) == ("0", "1", "1")
    assert sorted(session.scalars(select(Benefit.monthly_amount_fen))) == [10000, 30000]


def test_rejected_rows_are_reported_with_masked_ids(cli, session, tmp_path):
    ids = residents(cli, tmp_path)
    unknown = make_id("19400105", 99)
    rows = [
        (ids[0], "elderly_allowance", "2020-02", "100.00"),  # line 2: fine
        (unknown, "elderly_allowance", "2020-02", "100.00"),  # 3
        (ids[1], "free_lunch", "2020-02", "100.00"),  # 4
        (ids[1], "elderly_allowance", "2020-13", "100.00"),  # 5
        (ids[2], "elderly_allowance", "2020-02", "-5"),  # 6
        (ids[2], "dibao", "2020-02", "1,000.00"),  # 7
        (ids[0], "dibao", "2020-02", "800.00"),  # 8 duplicate (id, program) …
        (ids[0], "dibao", "2021-02", "800.00"),  # 9 … both rejected
        (ids[3], "elderly_allowance", "2020-02", "100.00"),  # 10 deceased
        (ids[1][:17] + ("0" if ids[1][17] != "0" else "1"), "dibao", "2020-02", "800.00"),  # 11
        ("2099", "2099-01"),  # 12 ragged
    ]
    counts = summary(cli("import", "beneficiaries", str(write(tmp_path / "b.csv", COLUMNS, rows))))
    assert (counts["imported"], counts["rejected"]) == ("1", "10")
    assert report(counts["report"]) == {
        ("3", "RESIDENT_UNKNOWN"), ("4", "PROGRAM_UNKNOWN"), ("5", "MONTH_INVALID"), ("6", "AMOUNT_INVALID"),
        ("7", "AMOUNT_INVALID"), ("8", "DUPLICATE_ID"), ("9", "DUPLICATE_ID"), ("10", "RESIDENT_DECEASED"),
        ("11", "ID_CHECKSUM"), ("12", "ROW_FORMAT"),
    }
    assert not re.search(r"\d{17}[\dXx]", Path(counts["report"]).read_text(encoding="utf-8-sig"))
    assert session.scalar(select(func.count()).select_from(Benefit)) == 1


def test_wrong_header_exits_2_and_writes_nothing(cli, session, tmp_path):
    path = write(tmp_path / "b.csv", ("id_number", "program", "amount"), [("x", "dibao", "1")])
    result = cli("import", "beneficiaries", str(path))
    assert result.exit_code == 2 and "header" in result.stderr
    assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_paid_through_says_what_the_old_process_paid_and_the_roll_pays_only_the_months_after(cli, session, tmp_path):
    """A legacy beneficiary paid for years by the old process: with `paid_through` the first roll pays the months
    after it; without, every month since the start (the contract's arrears): the column is what prevents that."""
    ids = residents(cli, tmp_path)
    rows = [(ids[0], "elderly_allowance", "2020-02", "100.00", "2026-10"),  # paid by the old process to October
            (ids[1], "elderly_allowance", "2026-09", "100.00", ""),  # not said: paid from the start month
            (ids[2], "elderly_allowance", "2026-08", "100.00", "2026-06"),  # before the month before its start
            (ids[2], "dibao", "2026-08", "800.00", "2027-01"),  # after the current month: refused
            (ids[2], "disability_living_subsidy", "2026-13", "80.00", "2026-10")]  # the start month is what is wrong
    counts = summary(cli("import", "beneficiaries", str(write(tmp_path / "b.csv", (*COLUMNS, "paid_through"),
                                                                  rows))))
    assert (counts["imported"], counts["rejected"]) == ("2", "3")
    assert report(counts["report"]) == {("4", "PAID_THROUGH_INVALID"), ("5", "PAID_THROUGH_INVALID"),
                                        ("6", "MONTH_INVALID")}

    # A later file without the column keeps what was said; one with a new month updates it.
    again = summary(cli("import", "beneficiaries", str(write(tmp_path / "b2.csv", COLUMNS, [r[:4] for r in rows[:2]]))))
    assert (again["unchanged"], again["updated"]) == ("2", "0")

    roll = cli("payroll", "--month", "2026-12", "--as-of", "2026-12-05")
    assert roll.exit_code == 0, roll.output
    lines = dict(session.execute(select(Resident.name, PayrollLine.covered_from)
                                 .join(Resident, Resident.id == PayrollLine.resident_id)).all())
    amounts = dict(session.execute(select(Resident.name, PayrollLine.arrears_fen)
                                   .join(Resident, Resident.id == PayrollLine.resident_id)).all())
    assert lines == {"赵秀1": "2026-11", "赵秀2": "2026-09"}
    assert amounts == {"赵秀1": 10000, "赵秀2": 30000}  # one month before December; three

    moved = summary(cli("import", "beneficiaries", str(write(tmp_path / "b3.csv", (*COLUMNS, "paid_through"),
                                                                 [rows[0][:4] + ("2026-11",)]))))
    assert (moved["updated"], moved["unchanged"]) == ("1", "0")
    assert session.scalar(select(Benefit.legacy_paid_through).where(Benefit.start_month == "2020-02")) == "2026-11"
    # given by mistake: the month before the start says nothing was paid (a blank cell would keep the value)
    undone = summary(cli("import", "beneficiaries", str(write(tmp_path / "b4.csv", (*COLUMNS, "paid_through"),
                                                                  [rows[0][:4] + ("2020-01",)]))))
    assert undone["updated"] == "1"


def test_a_column_besides_the_contract_and_paid_through_is_still_a_wrong_header(cli, session, tmp_path):
    path = write(tmp_path / "b.csv", (*COLUMNS, "paid_through", "note"), [("x", "dibao", "2026-01", "1", "", "")])
    result = cli("import", "beneficiaries", str(path))
    assert result.exit_code == 2 and "unknown columns: note" in result.stderr and "optional: paid_through" in result.stderr
    assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_a_row_skipped_with_benefit_exists_is_counted_and_the_import_completes(cli, session, tmp_path):
    """Re-importing the legacy list after a benefit was suspended (moved out): the row is skipped on purpose, with
    its warning; the import completes (exit 0), it did not say the file changed while it was read."""
    ids = residents(cli, tmp_path)
    rows = [(ids[0], "elderly_allowance", "2020-02", "100.00"), (ids[1], "elderly_allowance", "2021-07", "100.00")]
    path = write(tmp_path / "b.csv", COLUMNS, rows)
    assert summary(cli("import", "beneficiaries", str(path)))["imported"] == "2"
    moves = write(tmp_path / "moves.csv", ("id_number", "move_date", "direction", "area_code"),
                  [(ids[0], "2026-10-15", "out", "110105")])
    assert summary(cli("import", "hukou-moves", str(moves)))["imported"] == "1"
    assert cli("scheduler", "run-once", "--as-of", "2026-11-02").exit_code == 0
    assert session.scalar(select(Benefit.state).where(Benefit.start_month == "2020-02")) == "suspended"

    again = cli("import", "beneficiaries", str(path))
    assert again.exit_code == 0 and "changed while it was imported" not in again.stderr, again.stderr
    counts = summary(again)
    assert (counts["unchanged"], counts["skipped"], counts["warnings"], counts["rejected"]) == ("1", "1", "1", "0")
    assert "complete" not in counts
    assert report(counts["report"]) == {("2", "BENEFIT_EXISTS")}


def test_a_paid_through_reaching_months_a_closed_roll_paid_is_applied_with_a_warning(cli, session, tmp_path):
    """Found by a probe: a legacy benefit first imported without paid_through had its years paid as arrears by
    a closed roll; a later file saying the old process had paid them was taken silently. The row is applied (the
    roll pays nothing twice from then on) and the report says those months were paid by both."""
    ids = residents(cli, tmp_path)
    first = write(tmp_path / "b.csv", COLUMNS, [(ids[0], "elderly_allowance", "2026-06", "100.00")])
    assert summary(cli("import", "beneficiaries", str(first)))["imported"] == "1"
    account = write(tmp_path / "acc.csv", ("id_number", "kind", "bank_name", "account_number"),
                    [(ids[0], "bank", "中国银行", "6217000010001234567")])
    assert summary(cli("import", "payout-accounts", str(account)))["imported"] == "1"  # a line is paid to an account
    closed = cli("payroll", "--month", "2026-11", "--close", "--as-of", "2026-11-05")
    assert closed.exit_code == 0, closed.output
    later = write(tmp_path / "b2.csv", (*COLUMNS, "paid_through"),
                  [(ids[0], "elderly_allowance", "2026-06", "100.00", "2026-08")])
    counts = summary(cli("import", "beneficiaries", str(later)))
    assert (counts["updated"], counts["warnings"], counts["rejected"]) == ("1", "1", "0")
    assert report(counts["report"]) == {("2", "PAID_THROUGH_OVERLAPS_ROLL")}
    assert session.scalar(select(Benefit.legacy_paid_through)) == "2026-08"
