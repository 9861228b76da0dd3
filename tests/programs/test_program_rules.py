"""Rule tables of the three programs (no database): boundaries, leap days, dates of effect, thresholds."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date

import pytest

from flows import workdays
from flows.params import Dated
from flows.programs import (
    PROGRAMS,
    dibao,
    disability_care_subsidy,
    disability_living_subsidy,
    elderly_allowance,
)
from flows.programs.disability_care_subsidy import Certificate, Facts

SRC = date(2026, 11, 25)


# ---- elderly allowance -------------------------------------------------------------------------------------

def _elder(born, **kw):
    return elderly_allowance.Facts(birth_date=born, death_date=kw.get("died"), hukou_local=kw.get("local", True),
                                   source_date=SRC)


@pytest.mark.parametrize("born,on,eligible", [
    (date(1946, 11, 20), date(2026, 11, 20), True),    # the birthday itself
    (date(1946, 11, 20), date(2026, 11, 19), False),   # the day before
    (date(1948, 2, 29), date(2028, 2, 29), True),      # leap-day birth, leap target year
    (date(1948, 2, 29), date(2028, 2, 28), False),
    (date(1947, 2, 28), date(2027, 2, 28), True),
])
def test_elderly_age_boundaries(born, on, eligible):
    assert elderly_allowance.decide(_elder(born), on).eligible is eligible


def test_elderly_leap_day_birth_in_a_common_year_turns_80_on_1_march():
    born = date(1946, 2, 28).replace(day=28)
    leap = date(1944, 2, 29)  # 80 in 2024 (leap); 81 on 1 March 2025
    assert elderly_allowance.tier_for_month(leap, "2026-01") == ("80-89", 5000)
    born = date(1947, 2, 28)
    assert elderly_allowance.decide(_elder(born), date(2027, 2, 28)).start_month == "2027-03"
    # 29 Feb 1946 → turns 80 on 1 Mar 2026 (2026 is common) → paid from April
    d = elderly_allowance.decide(_elder(date(1946, 2, 28).replace(year=1944)), date(2026, 3, 1))
    assert d.eligible
    assert elderly_allowance.first_month(date(1948, 2, 29)) == "2028-03"


def test_elderly_trace_is_plain_chinese_with_source_and_date():
    d = elderly_allowance.decide(_elder(date(1946, 11, 20)), date(2026, 11, 25))
    assert d.trace()[0]["text"] == "您于2026年11月20日年满80周岁(来源:公安人口库,2026-11-25)"
    assert {c["code"] for c in d.trace()} == {"age", "hukou_local", "alive"}


@pytest.mark.parametrize("month,expected", [
    ("2036-11", ("80-89", 5000)),   # 90th birthday on 2036-11-20: still 80-89 that month
    ("2036-12", ("90-99", 10000)),  # the month after
    ("2046-11", ("90-99", 10000)),
    ("2046-12", ("100+", 30000)),
])
def test_elderly_tier_raise_from_the_month_after_the_birthday(month, expected):
    assert elderly_allowance.tier_for_month(date(1946, 11, 20), month) == expected


def test_a_parameter_change_never_alters_earlier_months(monkeypatch):
    tiers = elderly_allowance.PARAMETERS["tiers"]
    raised = Dated(tiers.changes + ((date(2027, 7, 1), ((100, "100+", 30000), (90, "90-99", 12000),
                                                        (80, "80-89", 6000))),))
    monkeypatch.setitem(elderly_allowance.PARAMETERS, "tiers", raised)
    born = date(1940, 1, 5)
    assert elderly_allowance.tier_for_month(born, "2027-06") == ("80-89", 5000)
    assert elderly_allowance.tier_for_month(born, "2027-07") == ("80-89", 6000)


def test_elderly_not_eligible_when_dead_or_moved():
    assert not elderly_allowance.decide(_elder(date(1940, 1, 1), died=date(2026, 5, 1)), SRC).eligible
    assert not elderly_allowance.decide(_elder(date(1940, 1, 1), local=False), SRC).eligible


# ---- disability subsidies ----------------------------------------------------------------------------------

def _disabled(grade, issue=date(2025, 3, 10), expiry=date(2030, 3, 9), dibao_household=False, **kw):
    cert = Certificate(category="4", grade=grade, issue_date=issue, expiry_date=expiry, source_date=SRC)
    return Facts(birth_date=date(1970, 1, 1), death_date=kw.get("died"), hukou_local=kw.get("local", True),
                 source_date=SRC, certificate=cert, in_household_benefit=dibao_household,
                 household_benefit_source_date=SRC if dibao_household else None)


@pytest.mark.parametrize("grade,eligible,amount", [(1, True, 10000), (2, True, 8000), (3, False, 0), (4, False, 0)])
def test_care_subsidy_grade_boundary(grade, eligible, amount):
    d = disability_care_subsidy.decide(_disabled(grade), SRC)
    assert d.eligible is eligible and d.monthly_amount_fen == amount


def test_care_subsidy_certificate_validity_boundaries():
    f = _disabled(1, issue=date(2026, 11, 25), expiry=date(2026, 12, 31))
    assert disability_care_subsidy.decide(f, date(2026, 11, 25)).eligible       # issue day
    assert not disability_care_subsidy.decide(f, date(2026, 11, 24)).eligible
    assert disability_care_subsidy.decide(f, date(2026, 12, 31)).eligible       # expiry day
    assert not disability_care_subsidy.decide(f, date(2027, 1, 1)).eligible
    assert disability_care_subsidy.decide(f, date(2026, 11, 25)).start_month == "2026-12"


def test_care_subsidy_old_certificate_starts_with_the_program():
    d = disability_care_subsidy.decide(_disabled(2, issue=date(2019, 5, 1)), SRC)
    assert d.start_month == "2026-01"
    assert "肢体残疾二级" in d.trace()[0]["text"] and "来源:残联残疾人证数据,2026-11-25" in d.trace()[0]["text"]


def test_care_subsidy_without_certificate_says_so():
    f = replace(_disabled(1), certificate=None)
    d = disability_care_subsidy.decide(f, SRC)
    assert not d.eligible and d.trace()[0]["code"] == "certificate_valid"


@pytest.mark.parametrize("grade,amount", [(1, 10000), (2, 10000), (3, 6000), (4, 6000)])
def test_living_subsidy_needs_a_dibao_household(grade, amount):
    assert not disability_living_subsidy.decide(_disabled(grade), SRC).eligible
    d = disability_living_subsidy.decide(_disabled(grade, dibao_household=True), SRC)
    assert d.eligible and d.monthly_amount_fen == amount
    assert any("正在享受城乡低保" in c["text"] for c in d.trace())


def test_disability_dead_person_is_not_eligible():
    assert not disability_care_subsidy.decide(_disabled(1, died=date(2026, 10, 1)), SRC).eligible


# ---- 低保 --------------------------------------------------------------------------------------------------

def _household(monthly_incomes, n=2, deposits=0, homes=1, cars=0, firms=0, declared=0, as_of=SRC):
    months = dibao.window(as_of)
    items = [dibao.Item("income_wage", m, monthly_incomes, 1, "tax", SRC) for m in months]
    assets = [dibao.Item("deposit", "", deposits, 1, "bank", SRC)] if deposits else []
    assets += [dibao.Item("real_estate", "", 0, homes, "real_estate", SRC)] if homes else []
    assets += [dibao.Item("vehicle", "", 0, cars, "vehicles", SRC)] if cars else []
    assets += [dibao.Item("company", "", 0, firms, "market_regulation", SRC)] if firms else []
    members = [dibao.Member(1, "张*三", "户主", tuple(items + assets))]
    members += [dibao.Member(i + 2, "张*", "子", ()) for i in range(n - 1)]
    return dibao.Facts(members=tuple(members), hukou_local=True, alive=True, source_date=SRC,
                       declared_monthly_income_fen=declared)


@pytest.mark.parametrize("income,eligible", [(159_998, True), (160_000, False), (100_000, True)])
def test_dibao_income_threshold_is_strictly_below_the_standard(income, eligible):
    d = dibao.decide(_household(income, n=2), SRC)
    assert d.eligible is eligible
    if eligible:
        assert d.monthly_amount_fen == -(-(160_000 - income) // 100) * 100


def test_dibao_declared_income_counts():
    assert dibao.decide(_household(100_000, declared=50_000), SRC).eligible
    assert not dibao.decide(_household(100_000, declared=60_000), SRC).eligible


@pytest.mark.parametrize("kw,code", [
    ({"deposits": 2 * 80_000 * 24 + 2}, "deposits"),
    ({"homes": 2}, "real_estate"),
    ({"cars": 1}, "vehicles"),
    ({"firms": 1}, "companies"),
])
def test_dibao_asset_limits(kw, code):
    d = dibao.decide(_household(50_000, **kw), SRC)
    assert not d.eligible
    assert next(c.code for c in d.conditions if not c.passed) == code
    assert dibao.rejection_code(d) in dibao.REJECTION_REASONS


def test_dibao_deposit_limit_is_inclusive():
    assert dibao.decide(_household(50_000, deposits=2 * 80_000 * 24), SRC).eligible


def test_dibao_window_is_the_six_months_before_and_standard_change_applies_from_its_date(monkeypatch):
    assert dibao.window(date(2026, 11, 25)) == ("2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10")
    monkeypatch.setitem(dibao.PARAMETERS, "standard", Dated.of(("2026-01-01", 80000), ("2027-01-01", 85000)))
    assert not dibao.decide(_household(165_000, as_of=date(2026, 12, 31)), date(2026, 12, 31)).eligible
    assert dibao.decide(_household(165_000, as_of=date(2027, 1, 5)), date(2027, 1, 5)).eligible
    text = dibao.decide(_household(100_000), SRC).trace()[0]["text"]
    assert "家庭月人均收入500.00元" in text and "来源:税务部门,2026-11-25" in text


def test_every_program_has_a_guide_steps_and_review_flag():
    assert {"elderly_allowance", "disability_care_subsidy", "disability_living_subsidy", "dibao"} <= set(PROGRAMS)
    for p in PROGRAMS.values():
        assert p.guide["name"] and p.steps and p.trips() == 0
    assert not PROGRAMS["elderly_allowance"].needs_review and PROGRAMS["dibao"].public_notice


# ---- working days ------------------------------------------------------------------------------------------

def test_working_days_follow_the_announced_calendar():
    # Mid-Autumn 25 September and National Day 1–7 October 2026 off, Saturday 10 October worked (调休)
    assert not workdays.is_workday(date(2026, 9, 25)) and workdays.is_workday(date(2026, 10, 10))
    assert not workdays.is_workday(date(2026, 10, 5))
    assert workdays.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert workdays.working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1


def test_years_beyond_the_library_fall_back_with_a_warning(caplog):
    workdays._warned.discard(2031)
    with caplog.at_level(logging.WARNING, logger="zerotrip.workdays"):
        assert not workdays.is_workday(date(2031, 10, 2))      # fixed-date holiday
        assert not workdays.is_workday(date(2031, 3, 1))       # Saturday
        assert workdays.is_workday(date(2031, 3, 3))
    assert "no announced calendar for 2031" in caplog.text
    assert workdays.add_working_days(date(2031, 9, 30), 1) == date(2031, 10, 8)
    assert workdays.calendar_note(date(2026, 12, 20), date(2031, 1, 5)).startswith("2027,")
