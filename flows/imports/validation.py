"""Row validation shared by the population import and the synthetic city: strings in, a clean record out.

`validate_person(row, today)` takes the CSV columns as strings and returns (record or None, issues), where an
issue is (reason code, detail). A record is returned only when no issue is an error. Details never contain an
ID number, a phone number or a name.
"""

from __future__ import annotations

import functools
import re
from datetime import date

from app import digits, idnumbers
from flows.imports.reference import (
    HUKOU_VALUES,
    OTHER,
    SEX_CODES,
    TAIYUAN_DISTRICTS,
    relation_name,
    severity,
)

POPULATION_COLUMNS = (
    "id_number", "name", "sex", "birth_date", "household_id", "relation_to_head",
    "district_code", "street_code", "community_code", "hukou_local", "phone", "death_date",
)
_PHONE = re.compile(r"^1[3-9][0-9]{9}\Z")
_PHONE_NOISE = str.maketrans("", "", " -")

Issue = tuple[str, str]


@functools.lru_cache(maxsize=1 << 16)  # a population's birth dates repeat: an import asks the same ones again
def parse_date(value: str) -> date | None:
    """Strict YYYY-MM-DD (date.fromisoformat alone also takes 20240101 and week dates)."""
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def normalize_phone(raw: str) -> str | None:
    """11 digits, a leading +86 stripped; '' for no phone; None when invalid."""
    if len(raw) == 11 and _PHONE.match(raw):  # the usual case: nothing to strip
        return raw
    value = raw.translate(_PHONE_NOISE)
    if value.startswith("+86"):
        value = value[3:]
    if not value:
        return ""
    return value if _PHONE.match(value) else None


def id_key(row: dict[str, str]) -> str | None:
    """A row's duplicate key when it is one per resident: its normalized ID number."""
    return idnumbers.normalize(row["id_number"]) or None


id_key.columns = ("id_number",)  # what the file survey passes it (flows.imports.csvfile.survey)


def id_issue(raw: str, today: date) -> tuple[str | None, Issue | None]:
    try:
        return idnumbers.validate(raw, today), None
    except idnumbers.InvalidIdNumber as exc:
        return None, (exc.code, str(exc))


def _person_fields(row: dict[str, str], today: date, issues: list[Issue]) -> dict:
    name = row["name"].strip()
    if not name:
        issues.append(("NAME_MISSING", "name is empty"))
    elif len(name) > 64:
        issues.append(("NAME_INVALID", f"name has {len(name)} characters (at most 64)"))
    sex = SEX_CODES.get(row["sex"].strip().upper())
    if sex is None:
        issues.append(("SEX_INVALID", "sex must be M/F, 男/女 or 1/2"))
    born = parse_date(row["birth_date"].strip())
    if born is None:
        issues.append(("BIRTH_DATE_INVALID", "birth_date must be a real date YYYY-MM-DD"))
    household = row["household_id"].strip()
    if not household:
        issues.append(("HOUSEHOLD_MISSING", "household_id is empty"))
    elif len(household) > 32:
        issues.append(("HOUSEHOLD_INVALID", "household_id is longer than 32 characters"))
    elif digits.foreign_digit(household):
        issues.append(("HOUSEHOLD_INVALID", "household_id holds a digit other than 0-9"))
    relation = relation_name(row["relation_to_head"])
    if relation is None:
        issues.append(("RELATION_UNKNOWN", f"relation_to_head {row['relation_to_head'].strip()[:8]!r} "
                                           "unknown, stored as 其他"))
    return {"name": name, "sex": sex, "birth_date": born, "household_id": household,
            "relation_to_head": relation or OTHER}


def _place_fields(row: dict[str, str], record: dict, issues: list[Issue]) -> None:
    district = row["district_code"].strip()
    street, community = row["street_code"].strip(), row["community_code"].strip()
    if district not in TAIYUAN_DISTRICTS:
        issues.append(("DISTRICT_UNKNOWN", f"district_code {district[:12]!r} is not a Taiyuan district"))
    if len(street) != 9 or not digits.is_ascii_digits(street):
        issues.append(("STREET_INVALID", "street_code must be 9 digits"))
    elif not street.startswith(district):
        issues.append(("STREET_MISMATCH", f"street_code {street} is not in district {district[:12]}"))
    if len(community) != 12 or not digits.is_ascii_digits(community):
        issues.append(("COMMUNITY_INVALID", "community_code must be 12 digits"))
    elif not community.startswith(street):
        issues.append(("COMMUNITY_MISMATCH", f"community_code {community} is not in street {street[:12]}"))
    record["district_code"], record["street_code"], record["community_code"] = district, street, community


def _status_fields(row: dict[str, str], today: date, record: dict, issues: list[Issue]) -> None:
    born = record["birth_date"]
    hukou = HUKOU_VALUES.get(row["hukou_local"].strip().lower())
    if hukou is None:
        issues.append(("HUKOU_INVALID", "hukou_local must be true/false, 1/0 or 是/否"))
    phone = normalize_phone(row["phone"])
    if phone is None:
        issues.append(("PHONE_INVALID", "phone must be 11 digits starting 13–19 (optional +86) or empty"))
    raw_death = row["death_date"].strip()
    died = parse_date(raw_death) if raw_death else None
    if raw_death and died is None:
        issues.append(("DEATH_DATE_INVALID", "death_date must be a real date YYYY-MM-DD or empty"))
    elif died and died > today:
        issues.append(("DEATH_DATE_INVALID", "death_date is in the future"))
    elif died and born and died < born:
        issues.append(("DEATH_DATE_INVALID", "death_date is before the birth date"))
    record["hukou_local"], record["phone"], record["death_date"] = hukou, phone or None, died


def validate_person(row: dict[str, str], today: date) -> tuple[dict | None, list[Issue]]:
    """Validate one population row; the record has normalised values and the ID number in clear."""
    issues: list[Issue] = []
    number, problem = id_issue(row["id_number"], today)
    if problem:
        issues.append(problem)
    record = _person_fields(row, today, issues)
    if number and record["birth_date"] and record["birth_date"] != idnumbers.birth_date_of(number):
        issues.append(("ID_BIRTH_MISMATCH", "birth_date differs from the ID number's birth date"))
    if number and record["sex"] and record["sex"] != idnumbers.sex_of(number):
        issues.append(("ID_SEX_MISMATCH", "sex differs from the ID number's digit 17"))
    _place_fields(row, record, issues)  # the record's fields filled in place: no dict built to be merged
    _status_fields(row, today, record, issues)
    if issues and any(severity(code) == "error" for code, _ in issues):
        return None, issues
    record["id_number"] = number
    return record, issues
