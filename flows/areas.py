"""Area names: `zerotrip import areas FILE` (contract in docs/data-contracts.md, "Areas") and the synthetic city's
names; `names(session, codes, on)` gives code → name valid on a day, for the API to return both; `offices(...)` the
office of an area (name, reception phone, address) and `office_label` how it is written (a name, else the code)."""

from __future__ import annotations

import csv
import random
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from app import digits
from app.db import core_execute, flush_pending
from app.models.areas import Area
from app.sql import alias_of

COLUMNS = ("code", "name", "valid_from", "valid_to")
OFFICE_COLUMNS = ("office_phone", "office_address")  # optional: a file without them leaves what is stored
LEVELS = {6: "district", 9: "street", 12: "community"}
MAX_NAME = 64
MAX_ADDRESS = 128
# 接待电话: ASCII digits in groups joined by single '-' (0351-1234567, 12345), 3–20 characters
PHONE = re.compile(r"^[0-9]+(-[0-9]+)*\Z")
PHONE_LENGTH = (3, 20)
# how an office is written: the area's name and the office's kind, or the kind and the code when no name is known
OFFICE_KINDS = {"district": "民政局", "street": "办事处", "community": "居委会"}
UNNAMED_OFFICES = {"district": "区民政局", "street": "街道办事处", "community": "社区居委会"}
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


def office_phone(text: str | None) -> str | None:
    """A reception phone as written in a file: full-width digits (what a Chinese IME types) → ASCII, spaces
    around it removed; empty → None; anything but ASCII digits and '-' groups → ValueError."""
    text = digits.to_ascii((text or "").strip())
    if not text:
        return None
    if not PHONE.match(text) or not PHONE_LENGTH[0] <= len(text) <= PHONE_LENGTH[1]:
        raise ValueError(text)
    return text


def check_row(row: dict) -> tuple[str | None, dict | None]:
    """(reason code, clean row): CODE_INVALID, NAME_INVALID, DATE_INVALID, DATES_REVERSED, PHONE_INVALID,
    ADDRESS_INVALID. The office columns are in the clean row only when the file has them."""
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
    clean = {"code": code, "name": name, "valid_from": start, "valid_to": end, "level": LEVELS[len(code)],
             "parent_code": parent}
    if "office_phone" in row:
        try:
            clean["office_phone"] = office_phone(row["office_phone"])
        except ValueError:
            return "PHONE_INVALID", None
    if "office_address" in row:
        address = (row["office_address"] or "").strip()
        if len(address) > MAX_ADDRESS or "\x00" in address:
            return "ADDRESS_INVALID", None
        clean["office_address"] = address or None
    return None, clean


def upsert(session: Session, rows: list[dict], result: Result) -> None:
    """Insert or update by (code, valid_from); an office column missing from a row leaves the stored value."""
    for row in rows:
        found = session.get(Area, (row["code"], row["valid_from"]))
        if found is None:
            session.add(Area(**row))
            result.imported += 1
            continue
        changing = ("name", "valid_to", *(c for c in OFFICE_COLUMNS if c in row))
        if all(getattr(found, c) == row[c] for c in changing):
            result.unchanged += 1
        else:
            for column in changing:
                setattr(found, column, row[column])
            result.updated += 1


def import_file(session: Session, path: Path) -> Result:
    """Validate every row (rejects listed with line and reason; a file key twice rejects both) and upsert."""
    result = Result()
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        # the header is read as every import reads it: spaces around a name and its case do not matter
        if reader.fieldnames is not None:
            reader.fieldnames = [(c or "").strip().lower() for c in reader.fieldnames]
        if reader.fieldnames is None or set(COLUMNS[:3]) - set(reader.fieldnames):
            raise ValueError(f"the header must have the columns {', '.join(COLUMNS)} (optional: "
                             f"{', '.join(OFFICE_COLUMNS)})")
        good: dict[tuple, tuple[int, dict]] = {}
        twice: dict[tuple, list[int]] = {}
        for raw in reader:
            # the physical line the record starts on: its last line less the line breaks inside its fields
            line = reader.line_num - sum(str(v).count("\n") for v in raw.values() if v)
            reason, row = check_row({k: v for k, v in raw.items() if k})
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


def _office(rng: random.Random, district_name: str, road: str) -> dict:
    """An invented reception phone (0351 is Taiyuan's area code) and address."""
    return {"office_phone": f"0351-{rng.randint(2000000, 8999999)}",
            "office_address": f"太原市{district_name}{road}路{rng.randint(1, 300)}号"}


def synthetic_rows() -> list[dict]:
    """Names for the synthetic city (flows.synthetic_city.street_plan): the real district names, invented
    street and community names (deterministic); the district bureaus and street offices get an invented
    reception phone (0351-…) and address, the communities none (their receipts show 12345 only)."""
    from flows.imports.reference import TAIYUAN_DISTRICTS
    from flows.synthetic_city import street_plan

    rows, start = [], date(2020, 1, 1)
    for district, streets in street_plan().items():
        district_name = TAIYUAN_DISTRICTS[district][0]
        offices = random.Random(f"offices:{district}")  # its own stream: the names stay as they were
        rows.append({"code": district, "name": district_name, "valid_from": start, "valid_to": None,
                     "level": "district", "parent_code": None, **_office(offices, district_name, "府西")})
        rng = random.Random(f"areas:{district}")
        street_names = rng.sample(STREET_WORDS, len(streets))
        for (street, communities), word in zip(streets, street_names, strict=True):
            rows.append({"code": street, "name": f"{word}街道", "valid_from": start, "valid_to": None,
                         "level": "street", "parent_code": district,
                         **_office(offices, district_name, word)})
            names = rng.sample(COMMUNITY_WORDS, min(len(communities), len(COMMUNITY_WORDS)))
            for i, community in enumerate(communities):
                name = f"{names[i % len(names)]}社区" + ("" if i < len(names) else f"{i // len(names) + 1}")
                rows.append({"code": community, "name": name, "valid_from": start, "valid_to": None,
                             "level": "community", "parent_code": street,
                             "office_phone": None, "office_address": None})
    return rows


@cache
def _names_query():
    a = Area.__table__
    return select(a.c.code, a.c.name).where(
        a.c.code.in_(bindparam("codes", expanding=True)), a.c.valid_from <= bindparam("on"),
        or_(a.c.valid_to.is_(None), a.c.valid_to > bindparam("on")))


def name_on(code, on):
    """The name valid on `on` of the area whose code is the SQL expression `code`, as a scalar subquery (NULL
    without one): a list names its rows' areas in its own statement."""
    a = alias_of(Area.__table__, "named_area")
    return (select(a.c.name).where(a.c.code == code, a.c.valid_from <= on,
                                   or_(a.c.valid_to.is_(None), a.c.valid_to > on))
            .limit(1).scalar_subquery())


def names(session: Session, codes, on: date) -> dict[str, str]:
    """code → the name valid on `on` (codes without one are left out); one Core statement built once (every
    citizen's list of applications names its areas)."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    flush_pending(session)
    return dict(core_execute(session, _names_query(), {"codes": wanted, "on": on}).all())


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


def office_label(code: str | None, name: str | None) -> str | None:
    """How an office is written for people: the area's name and the office's kind (和平街道办事处, 南苑社区居委会,
    小店区民政局; a 镇/乡 is 人民政府), or the kind and the code when no name is known (街道办事处 140105001)."""
    if not code:
        return None
    level = LEVELS.get(len(code), "street")
    if not name:
        return f"{UNNAMED_OFFICES[level]} {code}"
    if level == "street" and name.endswith(("镇", "乡")):
        return f"{name}人民政府"
    return f"{name}{OFFICE_KINDS[level]}"


def offices(session: Session, codes, on: date) -> dict[str, dict]:
    """code → {code, name, office, phone, address} valid on `on`, for every code asked (name, phone and address
    None when not recorded; `office` is `office_label`)."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    rows = {r.code: r for r in session.execute(select(
        Area.code, Area.name, Area.office_phone, Area.office_address).where(
        Area.code.in_(wanted), Area.valid_from <= on,
        or_(Area.valid_to.is_(None), and_(Area.valid_to > on)))).all()}
    out = {}
    for code in wanted:
        row = rows.get(code)
        name = row.name if row else None
        out[code] = {"code": code, "name": name, "office": office_label(code, name),
                     "phone": row.office_phone if row else None, "address": row.office_address if row else None}
    return out
