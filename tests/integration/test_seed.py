"""`zerotrip seed`: a deterministic synthetic Taiyuan loaded through the import's validation and writer."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select

from app.idnumbers import validate
from app.models import Resident
from flows.imports.batch import local_today
from flows.imports.reference import TAIYUAN_DISTRICTS
from flows.imports.validation import validate_person
from flows.synthetic_city import people, write_population_csv

TODAY = date(2026, 11, 27)


def summary(result) -> dict[str, str]:
    assert result.exit_code == 0, result.stderr
    return dict(pair.split("=", 1) for pair in result.stdout.strip().splitlines()[-1].split())


def age(born: date, today: date = TODAY) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def test_same_seed_same_city_other_seed_other_city():
    first = list(people(3000, 7, TODAY))
    assert first == list(people(3000, 7, TODAY))
    assert first != list(people(3000, 8, TODAY))


def test_rows_are_valid_with_households_ages_and_phones():
    rows = list(people(20_000, 3, TODAY))
    assert all(validate_person(row, TODAY) == (validate_person(row, TODAY)[0], []) for row in rows)
    assert len({r["id_number"] for r in rows}) == len(rows)
    assert all(validate(r["id_number"], TODAY) for r in rows)
    ages = [age(date.fromisoformat(r["birth_date"])) for r in rows]
    assert 0.02 < sum(a >= 80 for a in ages) / len(ages) < 0.04
    assert 0.12 < sum(a < 15 for a in ages) / len(ages) < 0.16
    sizes = Counter(Counter(r["household_id"] for r in rows).values())
    assert set(sizes) <= set(range(1, 7)) and sizes[1] and sizes[3] and sizes[5]
    heads = Counter(r["household_id"] for r in rows if r["relation_to_head"] == "户主")
    assert set(heads.values()) == {1} and len(heads) == len({r["household_id"] for r in rows})
    assert {"配偶", "子", "女", "父母", "孙子女"} <= {r["relation_to_head"] for r in rows}
    phones = [r["phone"] for r in rows if r["phone"]]
    assert 0.6 < len(phones) / len(rows) < 0.9 and len(set(phones)) < len(phones)
    assert all(not r["phone"] for r, a in zip(rows, ages, strict=True) if a < 18)
    assert 0.005 < sum(r["hukou_local"] == "false" for r in rows) / len(rows) < 0.02
    assert any(r["death_date"] for r in rows)
    assert any(r["birth_date"].endswith("-02-29") for r in rows)
    assert {r["district_code"] for r in rows} == set(TAIYUAN_DISTRICTS)


def test_someone_turns_80_in_the_coming_weeks():
    rows = list(people(5000, 1, TODAY))
    eightieth = [date.fromisoformat(r["birth_date"]).replace(year=date.fromisoformat(r["birth_date"]).year + 80)
                 for r in rows if not r["birth_date"].endswith("02-29")]
    assert sum(TODAY < day <= TODAY + timedelta(days=28) for day in eightieth) >= 3


def test_seed_loads_the_city_with_the_story_resident(cli, session, cfg):
    counts = summary(cli("seed", "--people", "3000", "--seed", "5"))
    assert (counts["seeded"], counts["imported"], counts["rejected"]) == ("3000", "3000", "0")
    assert int(counts["households"]) > 1000 and counts["report"] == "none"
    assert session.scalar(select(func.count()).select_from(Resident)) == 3000
    today = local_today(cfg)
    eighty = date(today.year - 80, today.month, today.day if (today.month, today.day) != (2, 29) else 28)
    li = session.scalars(select(Resident).where(
        Resident.name == "李秀英", Resident.birth_date.between(eighty - timedelta(days=7), eighty))).one()
    assert (li.sex, li.hukou_local, li.death_date, li.district_code) == ("F", True, None, "140105")
    assert li.phone_hash is not None and 80 == age(li.birth_date, today)
    # the synthetic city's area names come with it (make run shows names, not codes)
    from flows import areas

    assert int(counts["areas"]) > 100
    named = areas.offices(session, [li.district_code, li.street_code, li.community_code], today)
    assert named[li.district_code]["name"] == "小店区" and named[li.street_code]["name"].endswith("街道")
    assert named[li.street_code]["phone"].startswith("0351-") and named[li.community_code]["name"]
    again = summary(cli("seed", "--people", "3000", "--seed", "5"))
    assert (again["imported"], again["updated"], again["unchanged"]) == ("0", "0", "3000")
    assert again["areas"] == "0"


def test_written_csv_imports_cleanly(cli, cfg, tmp_path):
    path = tmp_path / "city.csv"
    assert write_population_csv(path, people(2000, 9, local_today(cfg))) == 2000
    counts = summary(cli("import", "population", str(path)))
    assert (counts["imported"], counts["rejected"], counts["warnings"]) == ("2000", "0", "0")
