"""Every CSV contract refuses non-ASCII digits: the row is rejected with its reason, never stored, never a
traceback (issue 9 item 4; `zerotrip import population` used to die with exit 1 on a full-width ID number).

The contracts are the `zerotrip import …` commands and their column tuples; a column is numeric when its
valid sample holds a digit, so a new command or column fails here until it has a sample — then it is covered.
"""

from __future__ import annotations

import csv
import logging
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.imports import (
    beneficiaries,
    care_assessments,
    cremations,
    deaths,
    disability,
    economic,
    hukou_moves,
    payout_accounts,
)
from flows.imports.validation import POPULATION_COLUMNS
from tests.builders import make_id_number, make_resident

FOREIGN_DIGITS = st.characters(categories=("Nd", "No", "Nl")).filter(
    lambda c: not c.isascii() and not 0xFF10 <= ord(c) <= 0xFF19)
EXAMPLES = settings(max_examples=3, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
BIRTH = date(1950, 3, 4)


def _population(number: str, n: int) -> dict:
    return {"id_number": number, "name": "王秀英", "sex": "F", "birth_date": f"{BIRTH:%Y-%m-%d}",
            "household_id": f"H{n:04d}", "relation_to_head": "户主", "district_code": "140105",
            "street_code": "140105001", "community_code": "140105001001", "hukou_local": "true",
            "phone": f"1380013{n:04d}", "death_date": ""}


# import command → (contract columns, valid row for a resident with this ID number, needs a registry entry)
CONTRACTS = {
    "population": (POPULATION_COLUMNS, _population, False),
    "beneficiaries": (beneficiaries.COLUMNS, lambda number, n: {
        "id_number": number, "program": "elderly_allowance", "start_month": "2020-01", "monthly_amount": "100.50"},
        True),
    "deaths": (deaths.COLUMNS, lambda number, n: {"id_number": number, "death_date": "2026-10-03",
                                                  "source": "health"}, True),
    "disability": (disability.COLUMNS, lambda number, n: {
        "id_number": number, "certificate_number": number + "41", "category": "4", "grade": "1",
        "issue_date": "2025-03-01", "expiry_date": "2030-02-28"}, True),
    "hukou-moves": (hukou_moves.COLUMNS, lambda number, n: {"id_number": number, "move_date": "2026-09-01",
                                                            "direction": "out", "area_code": "110105"}, True),
    "economic": (economic.COLUMNS, lambda number, n: {
        "id_number": number, "kind": "income_wage", "period": "2026-09", "amount": "1200.50", "quantity": "2",
        "ref": "第0001号", "source": "tax"}, True),
    "payout-accounts": (payout_accounts.COLUMNS, lambda number, n: {
        "id_number": number, "kind": "sscard", "bank_name": "", "account_number": "6222020200112233446"}, True),
    "cremations": (cremations.COLUMNS, lambda number, n: {
        "id_number": number, "funeral_home": "太原市殡仪馆", "cremation_date": "2026-10-05", "arranger_name": "李小红",
        "arranger_id_number": make_id_number(date(1975, 1, 1)), "arranger_phone": "13900001111",
        "services": "接运;火化", "waived_amount": "800.00"}, True),
    "care-assessments": (care_assessments.COLUMNS, lambda number, n: {
        "id_number": number, "assessed_on": "2026-09-01", "level": "3", "assessor": "评估中心"}, True),
}


def _csv(path: Path, columns, rows: list[dict]) -> str:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(columns))
        w.writeheader()
        w.writerows(rows)
    return str(path)


def _summary(result) -> dict:
    return dict(part.split("=", 1) for part in result.stdout.strip().splitlines()[-1].split())


def _report(summary: dict) -> list[dict]:
    with open(summary["report"], encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_every_import_command_has_a_contract_here():
    import click

    from app.cli import cli as zerotrip

    ctx = click.Context(zerotrip)
    imports = zerotrip.get_command(ctx, "import")  # the CLI loads its commands lazily
    # `import areas` loads names, not registry rows: its contract (docs/data-contracts.md "Areas") and its
    # Unicode-digit refusals (CODE_INVALID) are tested in tests/staff/test_areas.py.
    assert set(imports.list_commands(click.Context(imports, parent=ctx))) - {"areas"} == set(CONTRACTS)
    for name, (columns, build, _) in CONTRACTS.items():
        assert tuple(build(make_id_number(BIRTH), 1)) == tuple(columns), name


def _corrupted(cli, tmp_path, kind, columns, valid):
    @EXAMPLES
    @given(chars=st.lists(FOREIGN_DIGITS, min_size=len(valid), max_size=len(valid)),
           spots=st.lists(st.integers(0, 40), min_size=len(valid), max_size=len(valid)))
    def corrupted(chars, spots):
        rows = []
        for (column, row), ch, spot in zip(valid, chars, spots, strict=True):
            text = row[column]
            places = [i for i, c in enumerate(text) if c in "0123456789"]
            at = places[spot % len(places)]
            rows.append({**row, column: text[:at] + ch + text[at + 1:]})
        result = cli("import", kind, _csv(tmp_path / f"{kind}-bad.csv", columns, rows))
        assert result.exit_code == 0, (kind, result.stdout, result.stderr)
        got = _summary(result)
        assert (got["rejected"], got["imported"], got["updated"]) == (str(len(rows)), "0", "0"), (kind, got)
        by_line = {}
        for r in _report(got):
            by_line.setdefault(int(r["line"]), []).append((r["reason"], r["severity"]))
        for line, (column, _) in enumerate(valid, start=2):
            reasons = by_line[line]
            assert any(sev == "error" for _, sev in reasons), (kind, column, reasons)
            assert not any(code.startswith(("DUPLICATE", "RESIDENT_UNKNOWN")) for code, _ in reasons)
            if column == "id_number":
                assert ("ID_FORMAT", "error") in reasons, (kind, reasons)

    return corrupted


def test_non_ascii_digits_in_any_numeric_column_reject_the_row(cli, cfg, session, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="zerotrip.security")
    n = iter(range(1, 10_000))
    for kind, (columns, build, registered) in CONTRACTS.items():
        numeric = [c for c in columns if any(ch.isascii() and ch in "0123456789" for ch in build("1" * 18, 1)[c])]
        valid = []
        for column in numeric:
            i = next(n)
            if registered:
                _, number = make_resident(session, cfg, birth_date=BIRTH, household_id=f"H{i}")
            else:
                number = make_id_number(BIRTH)
            valid.append((column, build(number, i)))
        first = _summary(cli("import", kind, _csv(tmp_path / f"{kind}.csv", columns, [r for _, r in valid])))
        assert first["rejected"] == "0" and int(first["imported"]) == len(valid), (kind, first)

        _corrupted(cli, tmp_path, kind, columns, valid)()
    assert any("rule=ascii_digits" in rec.getMessage() and "actor=import" in rec.getMessage()
               for rec in caplog.records)


def test_a_full_width_id_number_is_mapped_not_a_traceback(cli, cfg, session, tmp_path):
    number = make_id_number(BIRTH)
    wide = number.translate({ord(c): 0xFF10 + int(c) for c in "0123456789"}).replace("X", "ｘ")
    path = _csv(tmp_path / "p.csv", POPULATION_COLUMNS, [_population(wide, 1)])
    result = cli("import", "population", path)
    assert result.exit_code == 0 and _summary(result)["imported"] == "1", (result.stdout, result.stderr)
    again = _csv(tmp_path / "p2.csv", POPULATION_COLUMNS, [_population(number, 1)])
    assert _summary(cli("import", "population", again))["unchanged"] == "1"
