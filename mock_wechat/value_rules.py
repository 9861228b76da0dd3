"""Per-type rules for subscribe-message data values (design/wechat-api.md §3.1), as this mock applies them.

The keyword key is `<type><n>` (e.g. `thing1`, `number01`, `character_string3`). Lengths count Unicode
code points. A value that is missing, not an object with `value`, or blank after stripping whitespace
is "is empty"; a non-string value (e.g. a JSON number) is "invalid". "Symbol" below means a printable
character that is neither a letter nor a digit (Chinese counts as a letter) and not whitespace;
Chinese punctuation such as "，" is a symbol. "Han" means CJK unified ideographs (incl. ext. A–F).

| type | rule chosen |
|---|---|
| thing | ≤ 20 chars, any printable characters (no control chars, no newline) |
| number | ≤ 32 chars, ASCII digits with at most one decimal point inside (`12`, `3.50`) |
| letter | ≤ 32 chars, ASCII letters only |
| symbol | ≤ 5 chars, symbols only |
| character_string | ≤ 32 chars, printable, no Han, no whitespace |
| time | `HH:MM[:SS]`, optionally preceded by a date and a space; a range `A~B` of two such values |
| date | a date, optionally followed by a space and `HH:MM[:SS]`; a range `A~B` of two such values. Dates: `YYYY年M月D日`, `YYYY年M月`, `M月D日`, `YYYY-MM-DD`, `YYYY-MM`, `MM-DD`, with `-`, `/` or `.` as separator; month 1–12, day 1–31, hour 0–23, minute/second 0–59 |
| amount | optional one currency symbol (`¥ ￥ $ € £`), 1–10 digits, optional `.` + 1–2 digits, optional trailing `元` (`50.00元`, `¥50.00`, `50.00`) |
| phone_number | ≤ 17 chars of digits and symbols, at least one digit (`+86-0766-66888866`) |
| car_number | 2–8 chars: optional Han first, ASCII letters/digits, optional Han last (`粤A8Z888挂`) |
| name | no digits, printable; if it holds any Han: ≤ 10 chars, else ≤ 20 chars (letters, symbols, spaces) |
| phrase | ≤ 5 chars, Han only |
| enum | must be one of the keyword's `enum_values` in templates.json (any value if none are listed) |

An unknown type prefix accepts any non-empty printable value of ≤ 20 chars.
"""

import re

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_HAN_RE = re.compile(f"[{_HAN}]")
_DATE_SEP = r"[-/.]"
_TIME = r"([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?"
_MONTH = r"(0?[1-9]|1[0-2])"
_DAY = r"(0?[1-9]|[12]\d|3[01])"
_DATE = "|".join([
    rf"\d{{4}}年{_MONTH}月{_DAY}日",
    rf"\d{{4}}年{_MONTH}月",
    rf"{_MONTH}月{_DAY}日",
    rf"\d{{4}}(?P<s1>{_DATE_SEP}){_MONTH}(?P=s1){_DAY}",
    rf"\d{{4}}{_DATE_SEP}{_MONTH}",
    rf"{_MONTH}{_DATE_SEP}{_DAY}",
])
_DATE_VALUE = re.compile(rf"(?:{_DATE})(?: {_TIME})?", re.ASCII)
_TIME_VALUE = re.compile(rf"(?:(?:{_DATE}) )?{_TIME}", re.ASCII)
_AMOUNT = re.compile(r"[¥￥$€£]?\d{1,10}(\.\d{1,2})?元?", re.ASCII)
_NUMBER = re.compile(r"\d+(\.\d+)?", re.ASCII)
_CAR = re.compile(rf"[{_HAN}]?[A-Za-z0-9]+[{_HAN}]?")


def is_han(ch: str) -> bool:
    return bool(_HAN_RE.fullmatch(ch))


def is_symbol(ch: str) -> bool:
    return ch.isprintable() and not ch.isalnum() and not ch.isspace()


def _printable(value: str) -> bool:
    return value.isprintable()


def _ranged(pattern: re.Pattern, value: str) -> bool:
    parts = [p.strip() for p in value.split("~")]
    return len(parts) <= 2 and all(pattern.fullmatch(p) for p in parts)


def _name(value: str) -> bool:
    if not _printable(value) or any(ch.isdigit() for ch in value):
        return False
    return len(value) <= (10 if _HAN_RE.search(value) else 20)


RULES = {
    "thing": lambda v: len(v) <= 20 and _printable(v),
    "number": lambda v: len(v) <= 32 and bool(_NUMBER.fullmatch(v)),
    "letter": lambda v: len(v) <= 32 and v.isascii() and v.isalpha(),
    "symbol": lambda v: len(v) <= 5 and all(is_symbol(ch) for ch in v),
    "character_string": lambda v: len(v) <= 32 and _printable(v) and not any(
        is_han(ch) or ch.isspace() for ch in v),
    "time": lambda v: _ranged(_TIME_VALUE, v),
    "date": lambda v: _ranged(_DATE_VALUE, v),
    "amount": lambda v: bool(_AMOUNT.fullmatch(v)),
    "phone_number": lambda v: len(v) <= 17 and any(ch.isdigit() for ch in v) and all(
        ch in "0123456789" or is_symbol(ch) for ch in v),
    "car_number": lambda v: 2 <= len(v) <= 8 and bool(_CAR.fullmatch(v)),
    "name": _name,
    "phrase": lambda v: len(v) <= 5 and all(is_han(ch) for ch in v),
}


def key_type(key: str) -> str:
    match = re.fullmatch(r"(.*?)(\d+)", key)
    return match.group(1) if match else key


def check_value(key: str, item, enum_values: list[str] | None = None) -> str | None:
    """None if the data item is acceptable, else "is empty" or "invalid"."""
    value = item.get("value") if isinstance(item, dict) else None
    if value is None or (isinstance(value, str) and not value.strip()):
        return "is empty"
    if not isinstance(value, str):
        return "invalid"
    kind = key_type(key)
    if kind == "enum":
        ok = not enum_values or value in enum_values
    else:
        ok = RULES.get(kind, RULES["thing"])(value)
    return None if ok else "invalid"
