"""Partner imports: validated, reported with masked IDs and reason codes, idempotent, same summary and exit codes."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from app.crypto import cipher_for
from app.models import (
    DeathRecord,
    DisabilityCertificate,
    EconomicRecord,
    HukouMove,
    PayoutAccount,
    Resident,
)
from tests.builders import make_id_number, make_resident
from tests.conftest import leaked_id_numbers


def _csv(path: Path, header: tuple, rows: list[tuple]) -> str:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def _summary(result) -> dict:
    last = result.stdout.strip().splitlines()[-1]
    return dict(part.split("=", 1) for part in last.split())


def _report(summary: dict) -> list[dict]:
    with open(summary["report"], encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_disability_import_validates_reports_masked_and_is_idempotent(cli, cfg, session, tmp_path):
    person, number = make_resident(session, cfg, birth_date=date(1970, 5, 6))
    stranger = make_id_number(date(1980, 1, 1))
    path = _csv(tmp_path / "d.csv", ("id_number", "certificate_number", "category", "grade", "issue_date",
                                     "expiry_date"), [
        (number, number + "41", "4", "1", "2025-03-01", "2030-02-28"),
        (number, number + "45", "4", "5", "2025-03-01", "2030-02-28"),       # grade 5
        (number, number + "32", "4", "2", "2025-03-01", "2030-02-28"),       # number ≠ id+cat+grade
        (stranger, stranger + "11", "1", "1", "2025-03-01", "2024-01-01"),   # expiry before issue
        (make_id_number(date(1981, 1, 1)), "", "1", "1", "2025-03-01", "2030-01-01"),
    ])
    first = _summary(cli("import", "disability", path))
    assert (first["imported"], first["rejected"]) == ("1", "4")
    report = _report(first)
    assert {r["reason"] for r in report} >= {"GRADE_INVALID", "CERT_MISMATCH", "EXPIRY_DATE_INVALID",
                                              "CERT_NUMBER_INVALID"}
    text = Path(first["report"]).read_text(encoding="utf-8-sig")
    assert not leaked_id_numbers(text) and number[1:17] not in text
    cert = session.scalars(select(DisabilityCertificate)).one()
    assert (cert.resident_id, cert.grade, cert.category, cert.cert_mask) == (person.id, 1, "4",
                                                                               number[0] + "*" * 16 + number[-1] + "**")
    again = _summary(cli("import", "disability", path))
    assert (again["imported"], again["updated"], again["unchanged"]) == ("0", "0", "1")


def test_unknown_resident_and_wrong_header(cli, cfg, session, tmp_path):
    path = _csv(tmp_path / "x.csv", ("id_number", "death_date", "source"),
                [(make_id_number(date(1940, 1, 1)), "2026-10-01", "health")])
    s = _summary(cli("import", "deaths", path))
    assert s["rejected"] == "1" and _report(s)[0]["reason"] == "RESIDENT_UNKNOWN"
    bad = _csv(tmp_path / "bad.csv", ("id_number", "when"), [("1", "2")])
    result = cli("import", "deaths", bad)
    assert result.exit_code == 2 and "wrong header" in result.stderr


def test_deaths_set_the_death_date_and_rerun_changes_nothing(cli, cfg, session, tmp_path):
    person, number = make_resident(session, cfg, birth_date=date(1940, 1, 1))
    path = _csv(tmp_path / "deaths.csv", ("id_number", "death_date", "source"),
                [(number, "2026-10-03", "public_security"), (number + "X", "2026-10-03", "x")])
    s = _summary(cli("import", "deaths", path))
    assert (s["imported"], s["rejected"]) == ("1", "1")
    session.expire_all()
    assert session.get(Resident, person.id).death_date == date(2026, 10, 3)
    assert session.get(DeathRecord, person.id).source == "public_security"
    assert _summary(cli("import", "deaths", path))["unchanged"] == "1"


def test_hukou_moves_follow_the_latest_move(cli, cfg, session, tmp_path):
    person, number = make_resident(session, cfg)
    path = _csv(tmp_path / "m.csv", ("id_number", "move_date", "direction", "area_code"),
                [(number, "2026-09-01", "迁出", "110105"), (number, "2026-09-02", "sideways", "110105")])
    s = _summary(cli("import", "hukou-moves", path))
    assert (s["imported"], s["rejected"]) == ("1", "1")
    session.expire_all()
    assert session.get(Resident, person.id).hukou_local is False
    back = _csv(tmp_path / "m2.csv", ("id_number", "move_date", "direction", "area_code"),
                [(number, "2026-10-01", "in", "110105")])
    cli("import", "hukou-moves", back)
    session.expire_all()
    assert session.get(Resident, person.id).hukou_local is True
    assert session.scalar(select(func.count()).select_from(HukouMove)) == 2
    assert _summary(cli("import", "hukou-moves", path))["unchanged"] == "1"


def test_economic_records_upsert_by_kind_period_and_ref(cli, cfg, session, tmp_path):
    _, number = make_resident(session, cfg)
    header = ("id_number", "kind", "period", "amount", "quantity", "ref", "source")
    path = _csv(tmp_path / "e.csv", header, [
        (number, "income_wage", "2026-09", "1200.50", "", "", "tax"),
        (number, "real_estate", "", "0", "1", "晋(2020)太原市不动产权第0001号", "real_estate"),
        (number, "income_wage", "2026-9", "1", "", "", "tax"),     # bad period
        (number, "yacht", "", "1", "", "", "bank"),                # unknown kind
    ])
    s = _summary(cli("import", "economic", path))
    assert (s["imported"], s["rejected"]) == ("2", "2")
    path2 = _csv(tmp_path / "e2.csv", header, [(number, "income_wage", "2026-09", "1300", "", "", "tax")])
    assert _summary(cli("import", "economic", path2))["updated"] == "1"
    rows = session.scalars(select(EconomicRecord).order_by(EconomicRecord.kind)).all()
    assert [(r.kind, r.amount_fen) for r in rows] == [("income_wage", 130000), ("real_estate", 0)]
    assert "不动产" not in rows[1].ref_hash


def test_payout_accounts_are_encrypted_and_masked(cli, cfg, session, tmp_path):
    person, number = make_resident(session, cfg)
    path = _csv(tmp_path / "p.csv", ("id_number", "kind", "bank_name", "account_number"),
                [(number, "bank", "中国工商银行太原分行", "6222020200112233445"), (make_id_number(date(1990, 2, 2)), "bank", "", "12")])
    result = cli("import", "payout-accounts", path)
    s = _summary(result)
    assert s["imported"] == "1" and "6222020200112233445" not in result.stdout
    acct = session.get(PayoutAccount, person.id)
    assert acct.number_mask == "***************3445"
    assert cipher_for(cfg).decrypt(acct.number_enc) == "6222020200112233445"
    assert b"6222020200112233445" not in acct.number_enc


def test_a_blank_first_line_or_another_separator_is_said_in_words(cli, cfg, session, tmp_path):
    """A file starting with blank lines read "the file is empty"; a `;`-separated header "unknown columns: 1 more
    not shown"."""
    cases = {"blank.csv": ("\n\nid_number,death_date\n", "line 1 is blank"),
             "semicolons.csv": ("id_number;death_date\n", "separated by semicolons"),
             "empty.csv": ("", "the file is empty")}
    for name, (text, words) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        result = cli("import", "deaths", str(path))
        assert result.exit_code == 2 and words in result.stderr, (name, result.output)
