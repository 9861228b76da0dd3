"""A reduced simulated year through the CLI: the KPI table and the headline figures."""

from __future__ import annotations


def test_simulate_reduced_city_reports_full_coverage_and_no_wrongful_payment(cli):
    result = cli("simulate", "--people", "5000", "--days", "60", "--seed", "7")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "| 高龄津贴 (`elderly_allowance`) |" in out and "| 护理补贴 (`disability_care_subsidy`) |" in out
    last = dict(p.split("=", 1) for p in out.strip().splitlines()[-1].split())
    assert last["coverage"] == "100.0%"
    assert (last["wrongful"], last["anomalies"], last["trips"]) == ("0", "0", "0")
