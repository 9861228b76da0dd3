"""The log scrubber hides login codes, tokens, session keys and ID numbers, and leaves WeChat's errcodes readable
(`code=` inside `errcode=` was redacted: an operator could not tell 40001 from 42001, probe of 7 Dec 2026)."""

from __future__ import annotations

from app.logging_setup import scrub


def test_errcodes_stay_and_secrets_go():
    line = scrub("wechat token rejected (errcode=40001); js_code=0a1B2c code=zz9 access_token=T0K3N secret=s3cr3t "
                 "session_key=Sk3y ERRCODE=42001")
    assert "errcode=40001" in line and "ERRCODE=42001" in line
    for secret in ("0a1B2c", "zz9", "T0K3N", "s3cr3t", "Sk3y"):
        assert secret not in line, line
