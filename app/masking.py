"""Display masking of personal data (server-side; never reversible)."""

from __future__ import annotations

COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐")


def mask_name(name: str) -> str:
    """张*三 style: surname and last character kept, the middle starred (two characters: 张*)."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    surname = name[:2] if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else name[:1]
    rest = name[len(surname):]
    if len(rest) <= 1:
        return surname + "*"
    return surname + "*" * (len(rest) - 1) + rest[-1]


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:]


def mask_account(number: str | None) -> str | None:
    if not number:
        return None
    return "*" * max(len(number) - 4, 0) + number[-4:]
