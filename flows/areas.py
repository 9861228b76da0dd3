"""Area names: `zerotrip import areas FILE` (contract in docs/data-contracts.md, "Areas") and the synthetic city's
names; `names(session, codes, on)` gives code → name valid on a day, for the API to return both."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app import digits
from app.models.areas import Area

COLUMNS = ("code", "name", "valid_from", "valid_to")
LEVELS = {6: "district", 9: "street", 12: "community"}
MAX_NAME = 64
STREET_WORDS = "和平 解放 建设 胜利 迎春 朝阳 五一 长风 晋阳 龙城 并州 双塔 汾河 青年 新华 文化 富民 康宁 学府 太和".split()
COMMUNITY_WORDS = "南苑 北苑 东坊 西坊 桃园 梨园 杏花 丁香 槐荫 柳巷 松庄 竹林 兴华 广厦 安居 乐业 春晖 秋实 清泉 明珠".split()


@dataclass
class Result:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, code, reason)


def _date(text: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    if len(text) != 10 or not digits.is_ascii_digits(text.replace("-", "")):
        raise ValueError
    return date.fromisoformat(text)


def check_row(row: dict) -> tuple[str | None, dict | None]:
    """(reason code, clean row): CODE_INVALID, NAME_INVALID, DATE_INVALID, DATES_REVERSED."""
    code = (row.get("code") or "").strip()
    if not digits.is_ascii_digits(code) or len(code) not in LEVELS:
        return "CODE_INVALID", None
    name = (row.get("name") or "").strip()
    if not name or len(name) > MAX_NAME or "\x00" in name:
        return "NAME_INVALID", None
    try:
        start = _date(row.get("valid_from") or "") or date(1949, 10, 1)
        end = _date(row.get("valid_to") or "")
    except ValueError:
        return "DATE_INVALID", None
    if end is not None and end <= start:
        return "DATES_REVERSED", None
    parent = None if len(code) == 6 else code[:6] if len(code) == 9 else code[:9]
    return None, {"code": code, "name": name, "valid_from": start, "valid_to": end, "level": LEVELS[len(code)],
                  "parent_code": parent}


def upsert(session: Session, rows: list[dict], result: Result) -> None:
    for row in rows:
        found = session.get(Area, (row["code"], row["valid_from"]))
        if found is None:
            session.add(Area(**row))
            result.imported += 1
        elif (found.name, found.valid_to) == (row["name"], row["valid_to"]):
            result.unchanged += 1
        else:
            found.name, found.valid_to = row["name"], row["valid_to"]
            result.updated += 1


def import_file(session: Session, path: Path) -> Result:
    """Validate every row (rejects listed with line and reason; a file key twice rejects both) and upsert."""
    result = Result()
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or set(COLUMNS[:3]) - {c.strip() for c in reader.fieldnames}:
            raise ValueError(f"the header must have the columns {', '.join(COLUMNS)}")
        good: dict[tuple, tuple[int, dict]] = {}
        twice: dict[tuple, list[int]] = {}
        for line, raw in enumerate(reader, start=2):
            reason, row = check_row({k.strip(): v for k, v in raw.items() if k})
            if reason:
                result.rejected.append((line, (raw.get("code") or "")[:12], reason))
                continue
            key = (row["code"], row["valid_from"])
            if key in good:
                twice.setdefault(key, [good[key][0]]).append(line)
            good[key] = (line, row)
    for key, lines in twice.items():
        good.pop(key)
        result.rejected.extend((line, key[0], "DUPLICATE_CODE") for line in lines)
    upsert(session, [row for _, row in good.values()], result)
    return result


def synthetic_rows() -> list[dict]:
    """Names for the synthetic city (flows.synthetic_city.street_plan): the real district names, invented
    street and community names (deterministic)."""
    from flows.imports.reference import TAIYUAN_DISTRICTS
    from flows.synthetic_city import street_plan

    rows, start = [], date(2020, 1, 1)
    for district, streets in street_plan().items():
        rows.append({"code": district, "name": TAIYUAN_DISTRICTS[district][0], "valid_from": start,
                     "valid_to": None, "level": "district", "parent_code": None})
        rng = random.Random(f"areas:{district}")
        street_names = rng.sample(STREET_WORDS, len(streets))
        for (street, communities), word in zip(streets, street_names, strict=True):
            rows.append({"code": street, "name": f"{word}街道", "valid_from": start, "valid_to": None,
                         "level": "street", "parent_code": district})
            names = rng.sample(COMMUNITY_WORDS, min(len(communities), len(COMMUNITY_WORDS)))
            for i, community in enumerate(communities):
                name = f"{names[i % len(names)]}社区" + ("" if i < len(names) else f"{i // len(names) + 1}")
                rows.append({"code": community, "name": name, "valid_from": start, "valid_to": None,
                             "level": "community", "parent_code": street})
    return rows


def names(session: Session, codes, on: date) -> dict[str, str]:
    """code → the name valid on `on` (codes without one are left out)."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    rows = session.execute(select(Area.code, Area.name).where(
        Area.code.in_(wanted), Area.valid_from <= on,
        or_(Area.valid_to.is_(None), and_(Area.valid_to > on)))).all()
    return {code: name for code, name in rows}


def communities_within(session: Session, staff, on: date) -> list[dict]:
    """The communities (code, name valid on `on`) of a staff member's jurisdiction: her community, her street's,
    or her district's, by code."""
    if staff.community_code:
        where = Area.code == staff.community_code
    else:
        prefix = staff.street_code or staff.district_code
        where = and_(Area.code >= prefix, Area.code < prefix + "a")  # codes under the prefix (index-friendly)
    rows = session.execute(select(Area.code, Area.name).where(
        where, Area.level == "community", Area.valid_from <= on,
        or_(Area.valid_to.is_(None), Area.valid_to > on)).order_by(Area.code)).all()
    return [{"code": code, "name": name} for code, name in rows]
