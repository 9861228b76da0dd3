"""`zerotrip audit verify --anchors PATH`: the anchor file is what a backup carries to prove the restored trail was
not rewritten, so a path that names no file, or a file that is not anchor lines, refuses (exit 2, one clear line)
instead of passing without anchors; with no --anchors and no file yet at AUDIT_ANCHOR_PATH it passes, and says so."""

from __future__ import annotations

import pytest

from tests.integration.test_backup_restore import _zerotrip


@pytest.fixture
def env(cfg):
    env = {"DATABASE_URL": cfg.database_url, "AUDIT_ANCHOR_PATH": cfg.audit_anchor_path}
    assert _zerotrip(env, "seed", "--people", "5").returncode == 0
    return env


def _refused(done, words: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "ok=1" not in done.stdout and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert words in done.stderr, done.stderr


def test_anchors_naming_no_file_refuse(env, tmp_path):
    _refused(_zerotrip(env, "audit", "verify", "--anchors", str(tmp_path / "missing.jsonl")), "does not exist")


@pytest.mark.parametrize("content", [b"\xff\xfe\x00\x01binary\x80", b"not json\n", b'{"seq": 1}\n', b"[1, 2]\n",
                                     b'{"seq": 1e400, "hash": "00"}\n'],
                         ids=["binary", "not-json", "no-hash", "not-an-object", "seq-infinite"])
def test_an_anchor_file_that_is_not_anchor_lines_refuses(env, tmp_path, content):
    path = tmp_path / "anchors.jsonl"
    path.write_bytes(content)
    _refused(_zerotrip(env, "audit", "verify", "--anchors", str(path)), "not readable as anchor lines")


def test_without_an_anchor_file_yet_verify_passes_and_says_it_read_none(env, cfg):
    done = _zerotrip(env, "audit", "verify")
    assert done.returncode == 0 and "ok=1" in done.stdout.splitlines()[-1], done.stdout + done.stderr
    assert f"no anchor file at {cfg.audit_anchor_path}" in done.stderr, done.stderr
    assert _zerotrip(env, "audit", "anchor").returncode == 0
    anchored = _zerotrip(env, "audit", "verify", "--anchors", cfg.audit_anchor_path)
    assert anchored.returncode == 0 and "ok=1" in anchored.stdout and "no anchor file" not in anchored.stderr


def test_an_anchor_file_holding_no_anchor_passes_and_says_so(env, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    done = _zerotrip(env, "audit", "verify", "--anchors", str(empty))
    assert done.returncode == 0 and "holds no anchor" in done.stderr, done.stdout + done.stderr
