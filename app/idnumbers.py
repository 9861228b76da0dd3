"""Resident ID numbers (公民身份号码, GB 11643-1999): check character, parts and masking.

Our own ISO 7064 MOD 11-2 code: python-stdnum rejects area codes younger than the birth year (people keep the
code their number was issued with) and accepts future birth dates (which we reject).
"""

from __future__ import annotations

import functools
import re
from datetime import date

from app import digits

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]\Z")
# Detection for masking: matches every script's digits on purpose (a full-width ID in a log is masked too).
ID_PATTERN = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")


class InvalidIdNumber(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def check_char(body17: str) -> str:
    """ISO 7064 MOD 11-2 over the 17-digit body: Σ digit·WEIGHTS mod 11 indexes CHECK_CHARS.

    Computed as (1 − 2·int(body, 13)) mod 11, which is the same sum (WEIGHTS[i] = 2^(17−i) mod 11 and
    13 ≡ 2 mod 11) done in C: the import checks a million of these.
    """
    if len(body17) != 17 or not digits.is_ascii_digits(body17):
        raise ValueError("the body of an ID number is 17 ASCII digits")
    return _check_char_of_digits(body17)


def _check_char_of_digits(body17: str) -> str:
    """`check_char` of a body already known to be 17 ASCII digits."""
    remainder = (1 - 2 * int(body17, 13)) % 11
    return "X" if remainder == 10 else str(remainder)


def normalize(raw: str) -> str:
    """Trimmed, upper case, full-width digits and Ｘ/ｘ/x mapped to ASCII (app/digits.py); nothing else."""
    return digits.id_to_ascii(raw or "")


def birth_date_of(id_number: str) -> date:
    return _date_of_digits(id_number[6:14])


@functools.lru_cache(maxsize=1 << 16)  # a population has a few tens of thousands of birthdays: an import's rows
def _date_of_digits(yyyymmdd: str) -> date:  # meet the same ones again (a miss raises ValueError, not cached)
    return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))


def sex_of(id_number: str) -> str:
    """Position 17: odd for men, even for women."""
    return "M" if int(id_number[16]) % 2 else "F"


def validate(raw: str, today: date) -> str:
    """Return the normalised number or raise InvalidIdNumber with a reason code."""
    number = normalize(raw)
    if not _SHAPE.match(number):
        if digits.foreign_digit(number):
            raise InvalidIdNumber("ID_FORMAT", "ID number must be written with the digits 0-9")
        raise InvalidIdNumber("ID_FORMAT", "ID number must be 17 digits and a check character")
    if _check_char_of_digits(number[:17]) != number[17]:  # _SHAPE: 17 ASCII digits
        raise InvalidIdNumber("ID_CHECKSUM", "wrong check character")
    try:
        born = birth_date_of(number)
    except ValueError:
        raise InvalidIdNumber("ID_BIRTH_DATE_INVALID", "impossible birth date in ID number") from None
    if born > today:
        raise InvalidIdNumber("ID_BIRTH_DATE_FUTURE", "birth date in ID number is in the future")
    if born.year < 1880:
        raise InvalidIdNumber("ID_BIRTH_DATE_INVALID", "implausible birth year in ID number")
    return number


def mask(id_number: str) -> str:
    """Keep the first and the last character only: 1****************3 (16 stars)."""
    number = normalize(id_number)
    if len(number) < 2:
        return "*" * len(number)
    return number[0] + "*" * (len(number) - 2) + number[-1]


def redact(text: str) -> str:
    """Mask every full ID number inside free text (log lines, error messages)."""
    return ID_PATTERN.sub(lambda m: mask(m.group(0)), text)
