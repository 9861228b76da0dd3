"""A reduced simulated year through the CLI: the KPI table and the headline figures."""

from __future__ import annotations


def test_simulate_reduced_city_reports_full_coverage_and_no_wrongful_payment(cli):
    # 70 days from 1 January: the price subsidy is triggered on 5 February, a pay day (below)
    result = cli("simulate", "--people", "5000", "--days", "70", "--seed", "7")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "| 高龄津贴 (`elderly_allowance`) |" in out and "| 护理补贴 (`disability_care_subsidy`) |" in out
    assert "| 殡葬补贴 (`funeral_subsidy`) |" in out and "| 低保 (`dibao`) |" in out
    assert "median days eligibility → approval" in out
    for code in ("elderly_allowance", "disability_care_subsidy", "disability_living_subsidy"):
        row = next(line for line in out.splitlines() if f"(`{code}`)" in line)
        assert "| 100.0% (" in row, row
    last = dict(p.split("=", 1) for p in out.strip().splitlines()[-1].split())
    # trips are counted from what the simulated people did (no step sends anyone to an office; a resident without
    # a phone answers at the counter, her one trip); a deceased with no adult in the household is a community
    # task, not a proposal, so the funeral row may be below 100%
    assert (last["wrongful"], last["anomalies"]) == ("0", "0")
    assert int(last["trips"]) > 0
    # a price subsidy triggered on a pay day is paid by that day's roll, after the approval (the report used to
    # look only at later rolls: 0% paid, 28 days)
    row = next(line for line in out.splitlines() if "(`price_subsidy`)" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert int(cells[1]) > 0 and cells[2].startswith("100.0%") and cells[5] == "0", row


def test_households_that_become_poor_are_proposed_at_once_and_go_through_every_staff_step(cli):
    """低保 in the simulated year: earners lose their job, the rule's window empties, the scan proposes the head the
    day the data shows it; the home visit, street review, 公示 and county approval follow (issue 11 item 4)."""
    result = cli("simulate", "--people", "4000", "--days", "240", "--seed", "3")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "(`dibao`)" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    eligible, coverage, wrongful, to_approval, to_pay = cells[1:6]
    assert int(eligible) > 0 and coverage.startswith("100.0%") and wrongful == "0", row
    # visit, review, a 7-day notice and approval take weeks; the first payment comes after the approval
    assert 7 < int(to_approval) < int(to_pay), row

