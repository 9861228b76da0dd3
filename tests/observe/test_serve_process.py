"""The production `zerotrip serve` (gunicorn) as a real process: per-address limits cannot be dodged with a
spoofed X-Forwarded-For; behind a trusted proxy the client is the right-most untrusted entry; the metrics
port shows every listed family (API, dispatcher, scheduler); JSON log lines carry the request fields and
nothing personal."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys

import jwt
import requests

from tests.builders import make_id_number
from tests.conftest import assert_clean
from tests.notifications.helpers import grant, proposal
from tests.observe.conftest import serve, wait_for_line
from tests.waiting import HTTP_TIMEOUT, wait_exit

NOTICES = "/api/v1/public-notices?street=140105001"
LIMIT = 30  # public notices: 30 a minute per address (app/api/public_notices.py)


def _requests_until_429(base: str, forwarded_for) -> int:
    """Send until refused; a window may roll over on a slow machine, so allow a few windows' worth."""
    for i in range(1, 4 * LIMIT + 1):
        resp = requests.get(base + NOTICES, headers={"X-Forwarded-For": forwarded_for(i)}, timeout=HTTP_TIMEOUT)
        if resp.status_code == 429:
            return i
        assert resp.status_code == 200, resp.text
    raise AssertionError(f"no 429 after {4 * LIMIT} requests: the spoofed X-Forwarded-For was believed")


def test_rotating_spoofed_forwarded_for_still_hits_the_limit(cfg, tmp_path):
    with serve(cfg, tmp_path) as api:  # ZEROTRIP_TRUSTED_PROXIES unset: the header is ignored
        assert _requests_until_429(api.base, lambda i: f"198.51.100.{i % 250}") > LIMIT


def test_behind_a_trusted_proxy_the_client_is_the_rightmost_untrusted_entry(cfg, tmp_path):
    with serve(cfg, tmp_path, env={"ZEROTRIP_TRUSTED_PROXIES": "127.0.0.0/8, 10.0.0.0/8"}) as api:
        # The client forges the left part; our proxies (10.1.2.3 then the loopback peer) append what they saw.
        hit = _requests_until_429(api.base, lambda i: f"198.51.100.{i % 250}, 203.0.113.7, 10.1.2.3")
        assert hit > LIMIT
        other = requests.get(api.base + NOTICES, headers={"X-Forwarded-For": "203.0.113.8, 10.1.2.3"}, timeout=HTTP_TIMEOUT)
        assert other.status_code == 200, "another client behind the same proxy must not share the limit"


def _assert_not_reachable_off_loopback(metrics_url: str) -> None:
    """The metrics port listens on 127.0.0.1 only: this host's other address gets no connection."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent; it only picks the outgoing interface
            address = probe.getsockname()[0]
        except OSError:
            return  # no non-loopback interface on this machine: nothing else to try
    if address.startswith("127."):
        return
    port = int(metrics_url.rsplit(":", 1)[1].split("/")[0])
    with socket.socket() as sock:
        assert sock.connect_ex((address, port)) != 0, f"metrics port reachable on {address}"


def _families(text: str) -> set[str]:
    names = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    return names | {name.removesuffix("_total") for name in names}


def _run_scheduler_until_started(api, tmp_path) -> None:
    """`zerotrip scheduler` runs its catch-up scans under leases, then waits for the schedule: stop it then."""
    log_path = tmp_path / "scheduler.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "app.cli", "scheduler"], env=api.env, stdout=log, stderr=log)
    try:
        wait_for_line(log_path, "scheduler started", proc)
    finally:
        proc.send_signal(signal.SIGINT)
        wait_exit(proc)


def test_metrics_scrape_and_json_log_lines(cfg, tmp_path, session, resident, application, account, wechat):
    person = resident(phone="13900139000")
    grant(session, wechat, account(resident=person))
    proposal(session, application(person))
    env = {"ZEROTRIP_LOG_FORMAT": "json", "WECHAT_API_BASE": wechat.base, "DISPATCH_QUIET_HOURS": "off"}
    id_number = make_id_number(person.birth_date)
    with serve(cfg, tmp_path, env=env) as api:
        # A request whose raw path holds an ID number and whose query holds a phone: neither may be logged.
        resp = requests.get(f"{api.base}/api/v1/applications/{id_number}", params={"phone": "13900139000"},
                            headers={"X-Request-ID": "trace-observe-0001"}, timeout=HTTP_TIMEOUT)
        assert resp.status_code in (401, 422)
        unknown_kid = jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256", headers={"kid": "retired-long-ago"})
        assert requests.get(f"{api.base}/api/v1/applications", headers={"Authorization": f"Bearer {unknown_kid}"},
                            timeout=HTTP_TIMEOUT).status_code == 401
        assert "sent=1" in api.cli("dispatch", "--once").stdout
        _run_scheduler_until_started(api, tmp_path)
        scrape = requests.get(api.metrics, timeout=HTTP_TIMEOUT)
        assert scrape.status_code == 200
        text = scrape.text
        assert {"zerotrip_http_requests", "zerotrip_http_request_duration_seconds", "zerotrip_outbox_messages",
                "zerotrip_outbox_oldest_pending_age_seconds", "zerotrip_dispatch_results",
                "zerotrip_scan_duration_seconds", "zerotrip_scan_last_success_timestamp_seconds",
                "zerotrip_job_duration_seconds", "zerotrip_job_last_success_timestamp_seconds",
                "zerotrip_lease_held", "zerotrip_security_refusals"} <= _families(text), sorted(_families(text))
        assert 'route="/api/v1/applications/{application_id}"' in text and id_number not in text
        assert re.search(r'zerotrip_dispatch_results_total\{channel="wechat",error_class="none",result="ok"\} 1\.0', text)
        assert 'zerotrip_outbox_messages{state="sent"} 1.0' in text
        assert re.search(r'zerotrip_security_refusals_total\{result="refused",rule="token_kid_unknown"\} 1\.0', text)
        assert re.search(r'zerotrip_scan_last_success_timestamp_seconds\{program="elderly_allowance"\} 1\.\d+e\+09', text)
        assert re.search(r'zerotrip_job_last_success_timestamp_seconds\{job="daily-scans"\} 1\.\d+e\+09', text)
        assert re.search(r'zerotrip_lease_held\{holder="[^"]+",lease="daily:scans"\}', text)
        _assert_not_reachable_off_loopback(api.metrics)
        log = api.log()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("request_id") == "trace-observe-0001" and "route" in line]
    assert mine, log[-3000:]
    assert {"request_id", "route", "status", "duration_ms"} <= set(mine[0])
    assert mine[0]["route"] == "/api/v1/applications/{application_id}" and mine[0]["status"] == resp.status_code
    assert id_number not in log and "13900139000" not in log and "trace-observe" in log
    assert_clean(log, "serve log")


def test_the_scheduler_stops_on_sigint_or_sigterm_even_when_started_with_sigint_ignored(cfg, tmp_path):
    """A process started in the background of a non-interactive shell inherits SIGINT ignored (and Python then
    installs no handler for it): the scheduler still stops on SIGINT, and on SIGTERM, saying so."""
    import os

    env = {**os.environ, "DATABASE_URL": cfg.database_url, "ZEROTRIP_INSTANCE_PATH": str(tmp_path / "instance"),
           "PYTHONUNBUFFERED": "1"}
    for sig in (signal.SIGINT, signal.SIGTERM):
        log_path = tmp_path / f"scheduler-{sig.name}.log"
        with open(log_path, "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "app.cli", "scheduler"], env=env, stdout=log, stderr=log,
                                    preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        try:
            wait_for_line(log_path, "scheduler started", proc)
        finally:
            proc.send_signal(sig)
            wait_exit(proc)
        assert "scheduler stopped" in log_path.read_text(), log_path.read_text()[-2000:]


def _raw(base: str, data: bytes) -> bytes:
    import socket

    host, port = base.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=HTTP_TIMEOUT) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_what_gunicorn_refuses_is_json_and_its_log_line_quotes_nothing_personal(cfg, tmp_path):
    id_number = make_id_number(__import__("datetime").date(1946, 12, 3))
    with serve(cfg, tmp_path, env={"ZEROTRIP_LOG_FORMAT": "json"}) as api:
        bad_version = _raw(api.base, f"GET /x HTTP/1.1 {id_number}\r\nHost: a\r\n\r\n".encode())
        too_long = _raw(api.base, b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: a\r\n\r\n")
        echoed = requests.get(f"{api.base}/healthz", headers={"X-Request-ID": f"id-{id_number}"}, timeout=HTTP_TIMEOUT)
        kept = requests.get(f"{api.base}/healthz", headers={"X-Request-ID": "trace-kept-0001"}, timeout=HTTP_TIMEOUT)
        chunked = requests.post(f"{api.base}/api/v1/proofs/verify", headers={"Content-Type": "application/json"},
                                data=(b"[" + b"0," * 65536 for _ in range(20)), timeout=HTTP_TIMEOUT)  # 2.6 MB
        log = api.log()
    for answer, status in ((bad_version, b"400"), (too_long, b"414")):
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 " + status) and b"Content-Type: application/json" in head, answer[:300]
        assert json.loads(body)["code"] == int(status) and id_number.encode() not in body
    assert echoed.headers["X-Request-ID"] != f"id-{id_number}" and kept.headers["X-Request-ID"] == "trace-kept-0001"
    assert chunked.status_code == 413 and chunked.json()["code"] == 413, chunked.text[:300]  # was 400, cut short
    assert "Invalid request from ip=" in log and id_number not in log, log[-3000:]


def test_a_worker_that_exits_leaves_the_metrics_folder_serve_made(cfg, tmp_path):
    """`zerotrip serve` without PROMETHEUS_MULTIPROC_DIR makes its own folder and removes it when it ends — in the
    master only: an exiting worker leaves through the same frame, and removed the folder its successor and the
    metrics port still use."""
    import os

    from tests.waiting import _children, wait_until

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    with serve(cfg, tmp_path, env={"PROMETHEUS_MULTIPROC_DIR": "", "TMPDIR": str(scratch)}) as api:
        (owned,) = list(scratch.glob("zerotrip-metrics-*"))
        port = api.base.rsplit(":", 1)[1]
        (master,) = [pid for pid in _children().get(os.getpid(), [])
                     if f"--port\0{port}\0" in open(f"/proc/{pid}/cmdline").read()]
        (worker,) = _children()[master]
        os.kill(worker, signal.SIGTERM)  # a graceful exit, as on a restart
        wait_until(lambda: _children().get(master, []), lambda pids: pids and worker not in pids,
                   what="gunicorn's next worker")
        assert requests.get(f"{api.base}/healthz", timeout=HTTP_TIMEOUT).status_code == 200
        assert owned.is_dir(), "a worker's exit removed the serve's metrics folder"
        assert requests.get(api.metrics, timeout=HTTP_TIMEOUT).status_code == 200
    assert not owned.exists()  # the master removed it when it ended
