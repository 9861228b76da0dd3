"""The worked example in docs/proof.md verifies with its own trust list (so the document stays true)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app import proofcode

DOC = (Path(__file__).resolve().parents[2] / "docs" / "proof.md").read_text(encoding="utf-8")


def _example():
    trust = json.loads(re.search(r"```json\n(.*?)```", DOC, re.S).group(1))
    code = re.search(r"```\n(ZT1:[^\n]+)\n```", DOC).group(1)
    return trust, code


def test_the_documented_code_verifies_with_the_documented_trust_list():
    trust, code = _example()
    issued = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    claims = proofcode.verify(code, proofcode.keys_from_trust_list(trust), issued + timedelta(days=1),
                              issuer=trust["issuer"])
    assert (claims.program_name, claims.tier, claims.name_masked, claims.id_last4) == ("最低生活保障", "2p", "王*国", "033X")
    assert claims.certificate_id == "3f2a9c0e7b6d4e18a5c1d2e3f4a5b6c7" and claims.kid == trust["keys"][0]["kid"]
    assert claims.expires_at == issued + timedelta(days=31)
    assert f"({len(code)} characters" in DOC
    with pytest.raises(proofcode.ProofError) as late:
        proofcode.verify(code, proofcode.keys_from_trust_list(trust), issued + timedelta(days=31))
    assert late.value.reason == "expired"
    tampered = code.replace("ZT1:N", "ZT1:M", 1)
    with pytest.raises(proofcode.ProofError):
        proofcode.verify(tampered, proofcode.keys_from_trust_list(trust), issued)
