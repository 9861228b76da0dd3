"""Every column that depends on the data key is re-keyed by `zerotrip keys rotate-data`: a new `*_hash` or
`*_enc` column, or a new kind of keyed hash in the code, fails here until the rotation handles it (or
flows/data_keys/columns.NOT_DATA_KEYED says why it does not depend on the data key)."""

from __future__ import annotations

import re
from pathlib import Path

from app.db import Base
from flows.data_keys.columns import HASH_KINDS, NOT_DATA_KEYED, STEPS, rotated_columns

ROOT = Path(__file__).resolve().parents[2]
CALL = re.compile(r"lookup_hash(?:es)?\((?P<args>(?:[^()]|\([^()]*\))*)\)", re.S)


def _keyed_looking_columns() -> set[str]:
    return {f"{table.name}.{column.name}" for table in Base.metadata.tables.values() for column in table.columns
            if column.name.endswith(("_hash", "_enc")) or column.type.__class__.__name__ == "LargeBinary"}


def test_every_hash_and_ciphertext_column_is_rotated_or_explained():
    missing = _keyed_looking_columns() - rotated_columns() - set(NOT_DATA_KEYED)
    assert not missing, f"columns that look keyed but no rotation step re-keys them: {sorted(missing)}"
    stale = set(NOT_DATA_KEYED) - _keyed_looking_columns()
    assert not stale, f"NOT_DATA_KEYED names columns that no longer exist: {sorted(stale)}"


def test_hashes_copied_into_keys_are_rotated_too():
    # ID hashes copied into other values: the open-request key and the bind counters' names.
    assert {"proxy_requests.open_key", "proxy_requests.target_id_hash", "rate_hits.bucket",
            "bind_attempts.id_hash", "staff_members.id_hash", "staff_members.id_enc"} <= rotated_columns()


def test_every_kind_of_keyed_hash_in_the_code_has_a_rotation_step():
    steps = {step.name for step in STEPS}
    kinds = set()
    for folder in ("app", "flows", "notifications"):
        for path in (ROOT / folder).rglob("*.py"):
            for call in CALL.finditer(path.read_text(encoding="utf-8")):
                literal = re.search(r',\s*"(\w+)"\s*$', call.group("args"))
                kinds.add(literal.group(1) if literal else "id")
    assert kinds - {"kind"} <= set(HASH_KINDS), f"keyed hash kinds no step re-keys: {kinds - set(HASH_KINDS)}"
    for kind, tables in HASH_KINDS.items():
        assert set(tables) <= steps, (kind, set(tables) - steps)
