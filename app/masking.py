"""Display masking of personal data (server-side; never reversible)."""

from __future__ import annotations

COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐")


def mask_name(name: str) -> str:
    """First and last character kept, everything between starred: 张*三, 李**华, 欧*娜 (欧阳娜), 欧**五.

    Two characters keep only the first (张*). A compound surname is not kept whole: with it and the last
    character shown, a three-character name such as 欧阳娜 would be fully readable.
    """
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:]


def mask_account(number: str | None) -> str | None:
    if not number:
        return None
    return "*" * max(len(number) - 4, 0) + number[-4:]
