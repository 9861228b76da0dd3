"""A resident's change hash (`flows.imports.writer.resident_row_hash`) is HMAC of the registry fields as `str`
writes them, joined by U+001F, in one fixed order. Every stored row hash depends on that text: were it to
change, the next import would find every resident changed and rewrite them all."""

from __future__ import annotations

from datetime import date

import pytest

from app.crypto import FieldCipher
from flows.imports.writer import resident_row_hash

ORDER = ("name", "sex", "birth_date", "household_id", "relation_to_head", "district_code", "street_code",
         "community_code", "hukou_local", "phone", "death_date")
BASE = {"id_number": "140105194612058526", "name": "李秀英", "sex": "F", "birth_date": date(1946, 12, 5),
        "household_id": "H000000001", "relation_to_head": "户主", "district_code": "140105",
        "street_code": "140105001", "community_code": "140105001001", "hukou_local": True,
        "phone": "13503874514", "death_date": None}


@pytest.mark.parametrize("changes", [{}, {"phone": None, "death_date": date(2026, 3, 1), "hukou_local": False}])
def test_the_row_hash_is_the_keyed_hash_of_the_fields_in_their_order(changes):
    cipher = FieldCipher(b"k" * 32)
    record = {**BASE, **changes}
    text = "\x1f".join(str(record[name]) for name in ORDER)
    assert resident_row_hash(cipher, record) == cipher.lookup_hash(text, "row")
    assert resident_row_hash(cipher, {**record, "name": "李秀"}) != resident_row_hash(cipher, record)
