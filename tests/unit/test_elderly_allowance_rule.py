"""The elderly-allowance rule as a table, no database."""

from datetime import date

import pytest

from flows.dates import age_on, birth_cutoff, nth_birthday
from flows.programs.elderly_allowance import Facts, decide

SRC = date(2026, 11, 25)


def facts(born, death=None, local=True):
    return Facts(birth_date=born, death_date=death, hukou_local=local, source_date=SRC)


@pytest.mark.parametrize(
    ("born", "as_of", "eligible", "tier", "amount", "start"),
    [
        (date(1946, 11, 20), date(2026, 11, 20), True, "80-89", 5000, "2026-12"),  # on the birthday itself
        (date(1946, 11, 20), date(2026, 11, 19), False, "", 0, ""),  # the day before
        (date(1936, 11, 20), date(2026, 11, 20), True, "90-99", 10000, "2026-01"),  # 90 today; started at 80
        (date(1926, 11, 20), date(2026, 11, 20), True, "100+", 30000, "2026-01"),
        (date(1936, 11, 21), date(2026, 11, 20), True, "80-89", 5000, "2026-01"),  # 89 until tomorrow
        (date(1948, 2, 29), date(2028, 2, 29), True, "80-89", 5000, "2028-03"),  # leap year: on 29 Feb
        (date(1944, 2, 29), date(2026, 3, 1), True, "80-89", 5000, "2026-01"),
        (date(1947, 3, 1), date(2027, 2, 28), False, "", 0, ""),
    ],
)
def test_rule_table(born, as_of, eligible, tier, amount, start):
    d = decide(facts(born), as_of)
    assert (d.eligible, d.tier, d.monthly_amount_fen, d.start_month) == (eligible, tier, amount, start)


def test_dead_or_moved_out_are_not_eligible_and_the_trace_says_why():
    dead = decide(facts(date(1930, 1, 1), death=date(2026, 1, 1)), date(2026, 11, 25))
    moved = decide(facts(date(1930, 1, 1), local=False), date(2026, 11, 25))
    assert not dead.eligible and not moved.eligible
    assert any("去世" in c["text"] for c in dead.trace())
    assert any("迁出" in c["text"] for c in moved.trace())


def test_the_citizen_trace_reads_in_plain_chinese_with_source_and_date():
    d = decide(facts(date(1946, 11, 20)), date(2026, 11, 25))
    assert d.trace()[0]["text"] == "您于2026年11月20日年满80周岁(来源:公安人口库,2026-11-25)"


@pytest.mark.parametrize(
    ("born", "n", "expected"),
    [(date(1948, 2, 29), 80, date(2028, 2, 29)), (date(1944, 2, 29), 81, date(2025, 3, 1)),
     (date(1946, 11, 20), 80, date(2026, 11, 20))],
)
def test_nth_birthday(born, n, expected):
    assert nth_birthday(born, n) == expected


def test_cutoff_and_age_agree_on_every_day_of_four_years():
    born_days = [date(1944, 2, 29), date(1944, 2, 28), date(1944, 3, 1), date(1946, 12, 31)]
    day = date(2024, 1, 1)
    while day < date(2028, 1, 1):
        for born in born_days:
            assert (born <= birth_cutoff(day, 80)) == (age_on(born, day) >= 80), (born, day)
        day = date.fromordinal(day.toordinal() + 1)
