"""ID numbers (GB 11643): check character, normalisation, birth date rules, masking."""

from datetime import date

import pytest

from app import idnumbers
from app.idnumbers import InvalidIdNumber, check_char, mask, redact, validate

TODAY = date(2026, 11, 27)
GB_EXAMPLE = "11010519491231002X"  # the worked example printed in the standard


def make(area: str, born: str, seq: int) -> str:
    body = f"{area}{born}{seq:03d}"
    return body + check_char(body)


def reason(raw: str) -> str:
    with pytest.raises(InvalidIdNumber) as caught:
        validate(raw, TODAY)
    return caught.value.code


def test_the_standards_example_is_valid():
    assert validate(GB_EXAMPLE, TODAY) == GB_EXAMPLE
    assert check_char(GB_EXAMPLE[:17]) == "X"


def test_lowercase_x_and_whitespace_are_normalised():
    assert validate(" 11010519491231002x ", TODAY) == GB_EXAMPLE


def test_check_char_matches_the_weighted_sum():
    for body in ("14010519461120002", "00000000000000000", "99999999999999999", "14018120000229001"):
        expected = idnumbers.CHECK_CHARS[sum(int(c) * w for c, w in zip(body, idnumbers.WEIGHTS, strict=True)) % 11]
        assert check_char(body) == expected


def test_check_char_refuses_a_body_that_is_not_17_digits():
    for body in ("1401051946112000", "1401051946112000A", "14010519461120002X"):
        with pytest.raises(ValueError):
            check_char(body)


def test_wrong_check_character():
    good = make("140105", "19461120", 2)
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    assert reason(wrong) == "ID_CHECKSUM"


@pytest.mark.parametrize("raw", ["", "1401051946112000", "14010519461120002XX", "1401051946112000A2", "1" * 15])
def test_shape(raw):
    assert reason(raw) == "ID_FORMAT"


def test_impossible_birth_date():
    assert reason(make("140105", "19490230", 1)) == "ID_BIRTH_DATE_INVALID"
    assert reason(make("140105", "20250229", 1)) == "ID_BIRTH_DATE_INVALID"


def test_future_birth_date():
    assert reason(make("140105", "20261128", 1)) == "ID_BIRTH_DATE_FUTURE"
    assert validate(make("140105", "20261127", 1), TODAY)


def test_29_february_in_a_leap_year():
    number = make("140105", "19480229", 2)
    assert validate(number, TODAY) == number
    assert idnumbers.birth_date_of(number) == date(1948, 2, 29)


def test_area_code_younger_than_the_birth_year_is_accepted():
    # 小店区 got code 140105 long after 1946; people keep the code their number was issued with.
    number = make("140105", "19461120", 2)
    assert validate(number, TODAY) == number


def test_sex_from_digit_17():
    assert idnumbers.sex_of(make("140105", "19461120", 2)) == "F"
    assert idnumbers.sex_of(make("140105", "19461120", 3)) == "M"


def test_mask_keeps_first_and_last_character():
    assert mask(GB_EXAMPLE) == "1" + "*" * 16 + "X"
    assert mask("11010519491231002x") == "1" + "*" * 16 + "X"
    assert mask("1") == "*"


def test_redact_masks_every_id_in_text():
    other = make("140105", "19461120", 2)
    text = f"rows {GB_EXAMPLE} and {other.lower()}; phone 13800138000"
    redacted = redact(text)
    assert GB_EXAMPLE not in redacted and other not in redacted
    assert "13800138000" in redacted


def test_full_width_digits_and_x_are_the_one_mapping_other_digits_are_id_format():
    wide = GB_EXAMPLE[:17].translate({ord(c): 0xFF10 + int(c) for c in "0123456789"})
    for last in ("X", "x", "Ｘ", "ｘ"):
        assert validate(f" {wide}{last} ", TODAY) == GB_EXAMPLE
    for other in ("٣", "²", "①", "३", "Ⅲ"):
        assert reason(GB_EXAMPLE[:5] + other + GB_EXAMPLE[6:]) == "ID_FORMAT"


def test_masking_still_detects_id_numbers_written_in_any_script():
    arabic = GB_EXAMPLE[:17].translate({ord(c): 0x0660 + int(c) for c in "0123456789"}) + "X"
    assert arabic not in redact(f"note {arabic} end")
