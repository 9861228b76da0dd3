"""A reduced simulated year through the CLI: the KPI table and the headline figures."""

from __future__ import annotations


def test_simulate_reduced_city_reports_full_coverage_and_no_wrongful_payment(cli):
    result = cli("simulate", "--people", "5000", "--days", "60", "--seed", "7")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "| 高龄津贴 (`elderly_allowance`) |" in out and "| 护理补贴 (`disability_care_subsidy`) |" in out
    assert "| 殡葬补贴 (`funeral_subsidy`) |" in out
    for code in ("elderly_allowance", "disability_care_subsidy", "disability_living_subsidy"):
        row = next(line for line in out.splitlines() if f"(`{code}`)" in line)
        assert "| 100.0% (" in row, row
    last = dict(p.split("=", 1) for p in out.strip().splitlines()[-1].split())
    # trips are counted from what the simulated people did (no step sends anyone to an office; a resident without
    # a phone answers at the counter, her one trip); a deceased with no adult in the household is a community
    # task, not a proposal, so the funeral row may be below 100%
    assert (last["wrongful"], last["anomalies"]) == ("0", "0")
    assert int(last["trips"]) > 0
