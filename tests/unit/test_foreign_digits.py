"""`app.digits` finds every non-ASCII digit character (Unicode categories Nd, No, Nl) by asking each distinct
character of a text, and nothing else: checked against the whole set of such characters built from
`unicodedata`, and with the one mapping (full-width ０–９) left out by `foreign_digit_unmapped`."""

from __future__ import annotations

import sys
import unicodedata

from app import digits

ALL = [chr(code) for code in range(0x80, sys.maxunicode + 1) if unicodedata.category(chr(code)) in ("Nd", "No", "Nl")]
FULLWIDTH = {chr(0xFF10 + i) for i in range(10)}


def test_every_foreign_digit_is_found_in_a_text_and_the_first_one_is_named():
    assert len(ALL) > 1000
    for ch in ALL:
        text = f"王秀英 {ch} H12"
        assert digits.foreign_digit(text) == ch
        assert digits.foreign_digit_unmapped(text) is (ch not in FULLWIDTH)
    assert digits.foreign_digit("第１号 ٣ ²") == "１" and digits.foreign_digit_unmapped("第１号 ٣ ²")


def test_text_without_one_is_left_alone():
    for text in ("", "H0001", "王秀英 户主 太原市小店区", "一二三 十 百", "１２３４５６", "Ｘｘ ＡＢＣ"):
        assert digits.foreign_digit_unmapped(text) is False
        assert digits.foreign_digit(text) == (next((c for c in text if c in FULLWIDTH), None))
    assert digits.foreign_digit_unmapped_in_utf8("王秀英,户主,H①\n".encode())
    assert not digits.foreign_digit_unmapped_in_utf8("王秀英,户主,Ｈ１\n".encode())
