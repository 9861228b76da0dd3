"""`zerotrip exchange selftest --client ID --key FILE` signs and sends the worked example to a running API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from flows.exchange import signing
from tests.ports import free_port


def test_selftest_signs_and_sends_the_worked_example(cfg, cli, tmp_path):
    key = Ed25519PrivateKey.generate()
    pem = tmp_path / "key.pem"
    pem.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    purposes = {"medical_aid": {"legal_basis": "《社会救助暂行办法》", "fields": {"dibao_household": ["receiving"]}}}
    assert cli("exchange", "client", "add", "--id", "ybj-st", "--name", "医保局", "--public-key",
               signing.public_key_text(key), "--actions", "search", "--purposes", json.dumps(purposes), "--pia", "P",
               "--agreement", "A", "--agreement-expires", "2030-01-01", "--contact", "c").exit_code == 0
    port = free_port()
    env = {**os.environ, "DATABASE_URL": cfg.database_url}
    exe = str(Path(sys.executable).with_name("zerotrip"))
    server = subprocess.Popen([exe, "serve", "--dev", "--port", str(port), "--metrics-port", "0"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        started = time.monotonic()
        while True:  # wait for the server to answer; fail only if it exits or 120 s pass without it
            assert server.poll() is None, "the API exited"
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.RequestException:
                assert time.monotonic() - started < 120
                time.sleep(0.1)
        result = subprocess.run([exe, "exchange", "selftest", "--client", "ybj-st", "--key", str(pem), "--url",
                                 f"http://127.0.0.1:{port}"], env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert "status=200 ok=1" in result.stdout.strip().splitlines()[-1]
        wrong = tmp_path / "wrong.pem"
        wrong.write_bytes(Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                                                     NoEncryption()))
        bad = subprocess.run([exe, "exchange", "selftest", "--client", "ybj-st", "--key", str(wrong), "--url",
                              f"http://127.0.0.1:{port}"], env=env, capture_output=True, text=True)
        assert bad.returncode == 1 and "status=401" in bad.stdout
    finally:
        server.terminate()
        server.wait(timeout=60)
