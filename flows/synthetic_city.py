"""A synthetic Taiyuan for demos, tests and benchmarks: households, an age pyramid, valid ID numbers.

Deterministic for a given seed and "today" (ages are relative to today, so that the nightly scan always finds
someone turning 80). Rows come out as the strings of a population CSV and are loaded through the same validation
and bulk writer as the import (`flows.imports.people.load_people`).
"""

from __future__ import annotations

import csv
import random
import time
from bisect import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

from app.crypto import cipher_for
from app.db import make_engine
from app.idnumbers import check_char
from flows.imports.batch import local_today, refuse_during_rotation, refuse_unreadable_ring
from flows.imports.people import load_people
from flows.imports.reference import (
    GRANDCHILD,
    HEAD,
    PARENT,
    SPOUSE,
    TAIYUAN_DISTRICTS,
)
from flows.imports.report import RejectReport, report_path
from flows.imports.validation import POPULATION_COLUMNS
from flows.imports.writer import ResidentWriter

# Population share (%) by 5-year age band, a Chinese provincial capital around 2026; 80+ ≈ 3%, 100+ ≈ 0.03%.
AGE_BANDS = (3.2, 4.3, 5.0, 4.9, 5.4, 6.0, 7.6, 8.6, 7.4, 7.0, 8.1, 8.0, 6.6, 5.6, 4.3, 2.9,
             1.75, 0.9, 0.32, 0.08, 0.03)
SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
            "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
            "樊兰殷施陶洪翟安颜倪严牛温芦季俞章鲁葛伍韦申尤毕聂丛焦向柳邢路岳齐沿梅莫庄辛管祝左涂谷祁时舒耿牟卜")
COMPOUND = ("欧阳", "司马", "上官", "诸葛", "令狐", "皇甫")
GIVEN_M = "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘"
GIVEN_F = "秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"
OTHER_AREAS = ("140100", "140202", "140303", "140402", "140502", "140702", "142201", "142301", "142601",
               "130102", "410102", "610102", "150102")
PHONE_PREFIXES = tuple(f"13{d}" for d in range(10)) + ("150", "151", "152", "153", "155", "156", "157", "158",
                                                       "159") + tuple(f"18{d}" for d in range(10))
STORY_RESIDENT = "李秀英"
# Zipf-like weights: 王 and 李 about 7% each, the hundredth surname about 0.2%.
_SURNAME_CUM = list(accumulate(1 / (rank + 3) for rank in range(len(SURNAMES))))
MAX_HOUSEHOLD = 6


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a non-leap year
        return day.replace(year=day.year - years, day=28)


def street_plan() -> dict[str, list[tuple[str, list[str]]]]:
    """A stable synthetic set: 5–15 streets a district, 5–20 communities a street (the same for every seed)."""
    plan = {}
    for district in TAIYUAN_DISTRICTS:
        rng = random.Random(int(district))
        streets = [f"{district}{s:03d}" for s in range(1, rng.randint(5, 15) + 1)]
        plan[district] = [(s, [f"{s}{c:03d}" for c in range(1, rng.randint(5, 20) + 1)]) for s in streets]
    return plan


@dataclass
class Household:
    head_age: int
    members: list = field(default_factory=list)  # [age, sex, relation, birth override or None]

    @property
    def full(self) -> bool:
        return len(self.members) >= MAX_HOUSEHOLD


class City:
    """Builds the people of N residents: first ages and households, then identities, places and phones."""

    def __init__(self, seed: int, today: date):
        self.rng, self.today = random.Random(seed), today
        self.plan = street_plan()
        self._districts = list(TAIYUAN_DISTRICTS)
        self._district_cum = list(accumulate(w for _, w in TAIYUAN_DISTRICTS.values()))
        self._ids: set[str] = set()
        self._phones: set[str] = set()

    # ---- ages and households -------------------------------------------------------------------------
    def ages(self, n: int) -> list[int]:
        weights = [AGE_BANDS[min(a // 5, len(AGE_BANDS) - 1)] * (0.85 ** (a - 100) if a >= 100 else 1)
                   for a in range(106)]
        return self.rng.choices(range(106), cum_weights=list(accumulate(weights)), k=n)

    def households(self, n: int) -> list[Household]:
        rng = self.rng
        ages = self.ages(n)
        adults = sorted((a for a in ages if a >= 18), key=lambda a: a + rng.gauss(0, 2.5))
        units: list[Household] = []
        loose: list[int] = []
        i = 0
        while i < len(adults):
            age = adults[i]
            if i + 1 < len(adults) and rng.random() < _married(age):
                male_first = rng.random() < 0.5
                units.append(Household(age, [[age, "M" if male_first else "F", HEAD, None],
                                             [adults[i + 1], "F" if male_first else "M", SPOUSE, None]]))
                i += 2
                continue
            if (18 <= age <= 26 and rng.random() < 0.7) or (age >= 75 and rng.random() < 0.45):
                loose.append(age)
            else:
                units.append(Household(age, [[age, _single_sex(rng, age), HEAD, None]]))
            i += 1
        self._attach(units, loose + [a for a in ages if a < 18])
        return units

    def _attach(self, units: list[Household], people: list[int]) -> None:
        by_age: dict[int, list[Household]] = {}
        for unit in units:
            by_age.setdefault(unit.head_age, []).append(unit)
        rng = self.rng
        for age in people:
            if age >= 60:
                relation, lo, hi = PARENT, age - 36, age - 20
            elif age < 18 and rng.random() < 0.15:
                relation, lo, hi = GRANDCHILD, age + 45, age + 70
            else:
                relation, lo, hi = "child", age + 22, age + 40
            unit = _pick(rng, by_age, lo, hi)
            sex = _single_sex(rng, age) if relation == PARENT else rng.choice("MF")
            if unit is None:
                unit = Household(age, [])
                units.append(unit)
                relation = HEAD
            if relation == "child":
                relation = "子" if sex == "M" else "女"
            unit.members.append([age, sex, relation, None])

    # ---- identities --------------------------------------------------------------------------------
    def birth_date(self, age: int) -> date:
        upper = _years_before(self.today, age)
        return upper - timedelta(days=self.rng.randrange(365))

    def id_number(self, area: str, born: date, sex: str) -> str:
        while True:
            seq = self.rng.randrange(500) * 2 + (1 if sex == "M" else 0)
            body = f"{area}{born:%Y%m%d}{seq:03d}"
            number = body + check_char(body)
            if number not in self._ids:
                self._ids.add(number)
                return number

    def phone(self) -> str:
        while True:
            number = self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self._phones:
                self._phones.add(number)
                return number

    def name(self, surname: str, sex: str) -> str:
        pool = GIVEN_M if sex == "M" else GIVEN_F
        given = self.rng.choice(pool) + (self.rng.choice(pool) if self.rng.random() < 0.7 else "")
        return surname + given

    def surname(self) -> str:
        if self.rng.random() < 0.003:
            return self.rng.choice(COMPOUND)
        return SURNAMES[bisect(_SURNAME_CUM, self.rng.random() * _SURNAME_CUM[-1])]

    def place(self) -> tuple[str, str, str]:
        district = self._districts[bisect(self._district_cum, self.rng.random() * self._district_cum[-1])]
        street, communities = self.rng.choice(self.plan[district])
        return district, street, self.rng.choice(communities)


def _married(age: int) -> float:
    return 0.08 if age < 24 else 0.45 if age < 30 else 0.8 if age < 70 else 0.6 if age < 80 else 0.35


def _single_sex(rng: random.Random, age: int) -> str:
    return "F" if rng.random() < (0.65 if age >= 75 else 0.5) else "M"


def _pick(rng: random.Random, by_age: dict[int, list[Household]], lo: int, hi: int) -> Household | None:
    for _ in range(6):
        bucket = by_age.get(rng.randint(lo, hi))
        while bucket:
            unit = bucket[rng.randrange(len(bucket))]
            if not unit.full:
                return unit
            bucket.remove(unit)
    return None


class PeopleWriter:
    """Turns households into population-CSV rows (strings), with the forced cases the demo needs."""

    def __init__(self, city: City):
        self.city, self.rng, self.today = city, city.rng, city.today
        self.households = 0

    def rows(self, n: int) -> Iterator[dict[str, str]]:
        units = [self._story_household()] + (self.city.households(n - 1) if n > 1 else [])
        self._force_birthdays(units, n)
        self.households = len(units)
        for number, unit in enumerate(units, start=1):
            yield from self._household_rows(f"H{number:09d}", unit)

    def _story_household(self) -> Household:
        born = _years_before(self.today - timedelta(days=self.rng.randint(1, 6)), 80)
        return Household(80, [[80, "F", HEAD, born, STORY_RESIDENT]])

    def _force_birthdays(self, units: list[Household], n: int) -> None:
        """A few people turn 80 in the next four weeks; a few were born on 29 February."""
        members = [m for u in units[1:] for m in u.members]
        turning = [m for m in members if m[0] == 79]
        for m in self.rng.sample(turning, min(len(turning), max(3, n // 5000))):
            m[3] = _years_before(self.today + timedelta(days=self.rng.randint(1, 28)), 80)
        adults = [m for m in members if 10 <= m[0] <= 90 and m[3] is None]
        for m in self.rng.sample(adults, min(len(adults), max(2, n // 20000))):
            m[3] = date(_leap_year_before(self.today.year - m[0]), 2, 29)

    def _household_rows(self, household_id: str, unit: Household) -> Iterator[dict[str, str]]:
        city, rng = self.city, self.rng
        district, street, community = city.place()
        if unit.members[0][-1] == STORY_RESIDENT:
            district, street, community = "140105", *_first_place(city.plan["140105"])
        family = city.surname()
        head_phone = None
        for member in unit.members:
            age, sex, relation, born = member[:4]
            born = born or city.birth_date(age)
            surname = family if relation in (HEAD, "子", "女", GRANDCHILD) else city.surname()
            area = district if rng.random() < 0.93 or len(member) > 4 else rng.choice(OTHER_AREAS)
            phone = self._phone(age, relation, head_phone, story=len(member) > 4)
            head_phone = phone if relation == HEAD else head_phone
            yield {
                "id_number": city.id_number(area, born, sex),
                "name": member[4] if len(member) > 4 else city.name(surname, sex),
                "sex": sex, "birth_date": born.isoformat(), "household_id": household_id,
                "relation_to_head": relation, "district_code": district, "street_code": street,
                "community_code": community, "hukou_local": "false" if rng.random() < 0.01 else "true",
                "phone": phone, "death_date": self._death(age, born) if len(member) == 4 else "",
            }

    def _phone(self, age: int, relation: str, head_phone: str | None, story: bool) -> str:
        if story:
            return self.city.phone()
        if age < 18:
            return ""
        if self.rng.random() < (0.6 if age >= 80 else 0.92):
            return self.city.phone()
        return head_phone if head_phone and age >= 70 and self.rng.random() < 0.5 else ""

    def _death(self, age: int, born: date) -> str:
        if self.rng.random() >= (0.02 if age >= 70 else 0.0005):
            return ""
        died = self.today - timedelta(days=self.rng.randint(1, 3 * 365))
        return max(died, born).isoformat()


def _leap_year_before(year: int) -> int:
    year -= 1 + (year - 1) % 4
    return year - 4 if year % 100 == 0 and year % 400 else year


def _first_place(streets: list[tuple[str, list[str]]]) -> tuple[str, str]:
    street, communities = streets[0]
    return street, communities[0]


def people(n: int, seed: int = 1, today: date | None = None) -> Iterator[dict[str, str]]:
    """N population rows as CSV strings (the first is the story's 李秀英)."""
    return PeopleWriter(City(seed, today or date.today())).rows(n)


def write_population_csv(path: Path, rows) -> int:
    """Write rows (dicts of the population columns) as a UTF-8 population CSV; returns the row count."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=POPULATION_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def seed_city(cfg, n: int, seed: int = 1, progress: Callable[[int], None] | None = None) -> dict:
    """Generate N residents and load them through the import's validation and bulk writer."""
    started, today = time.monotonic(), local_today(cfg)
    generator = PeopleWriter(City(seed, today))
    report = RejectReport(report_path(cfg.instance_path, "seed", f"s{seed}"), always=False)
    engine = make_engine(cfg.database_url)
    with engine.connect() as conn:
        refuse_during_rotation(conn)
    refuse_unreadable_ring(engine, cipher_for(cfg))
    writer = ResidentWriter(engine, cipher_for(cfg), today)
    numbered = ((line, row) for line, row in enumerate(generator.rows(n), start=2))
    try:
        result = load_people(writer, numbered, today, set(), report, progress)
    finally:
        report.close()
    return {"seeded": result.valid, "imported": result.writes.imported, "updated": result.writes.updated,
            "unchanged": result.writes.unchanged, "households": generator.households,
            "rejected": result.rejected, "report": str(report.path) if report.written else "none",
            "seconds": f"{time.monotonic() - started:.1f}"}
