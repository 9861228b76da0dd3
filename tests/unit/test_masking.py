"""Display masking of names, phones and account numbers (server-side, not reversible)."""

import pytest

from app.masking import mask_account, mask_name, mask_phone


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("", ""),
        ("李", "*"),
        ("李娜", "李*"),
        ("李秀英", "李*英"),
        ("李秀英华", "李**华"),
        ("欧阳娜", "欧*娜"),
        ("欧阳秀娜", "欧**娜"),
        ("欧阳", "欧*"),
        ("司马相如", "司**如"),
        (" 王小二 ", "王*二"),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_masked_name_never_shows_the_middle():
    assert "秀" not in mask_name("李秀英")


def test_mask_phone():
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("") is None
    assert mask_phone(None) is None


def test_mask_account():
    assert mask_account("6222020200112233445") == "*" * 15 + "3445"
    assert mask_account(None) is None
