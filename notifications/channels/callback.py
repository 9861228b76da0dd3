"""The callback channel: signed POSTs to a department's registered URL (exchange notifies and async answers).

Signing (docs/exchange.md, "Callbacks"): the inbound scheme turned round — Ed25519 by the bureau's key over

    ZT-EXCHANGE-V1\\n POST\\n <path?query of the callback URL>\\n <timestamp>\\n <message id>\\n <hex SHA-256 of the body>

with headers X-ZT-Client (the bureau's sender id), X-ZT-Key (ZEROTRIP_EXCHANGE_SIGNING_KID), X-ZT-Timestamp,
X-ZT-Message-Id (stable across retries: the receiver keeps it to drop a repeat) and X-ZT-Signature. The public
key is published at /exchange/v1/.well-known/keys.

SSRF: `check_url` is called at registration and again before every send. Only https; the host is resolved and
every address must be public (no loopback, private, link-local, multicast, reserved, CGNAT …) unless the host
or the address is in ZEROTRIP_EXCHANGE_CALLBACK_ALLOW (hosts or CIDRs; an allowlisted target may also use
http — for a test receiver or an internal gateway). The request goes to the address that was checked (no second
lookup that DNS could answer differently), with TLS verified against the URL's host name; redirects are never
followed (a 3xx is a permanent failure).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import urllib3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key

from app import digits
from notifications.channels import FAILED, OK, RETRY, Outcome

PREFIX = "ZT-EXCHANGE-V1"
SENDER_ID = "taiyuan-civil-affairs"
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class CallbackRefused(ValueError):
    """The URL may not be used as a callback (scheme, address, form)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path?query as signed
    address: str  # the checked address the request goes to


def _allow_entries(allow: str) -> tuple[set[str], list]:
    hosts, nets = set(), []
    for entry in allow.replace(",", " ").split():
        try:
            nets.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            hosts.add(entry.lower())
    return hosts, nets


def _public(ip) -> bool:
    if getattr(ip, "ipv4_mapped", None) is not None:
        ip = ip.ipv4_mapped
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
                or ip.is_unspecified or ip in _CGNAT or not ip.is_global)


def check_url(url: str, allow: str = "", resolve=socket.getaddrinfo) -> Target:
    """The checked target of a callback URL, or CallbackRefused with the reason."""
    if not isinstance(url, str) or len(url) > 255 or any(c.isspace() for c in url):
        raise CallbackRefused("the callback URL must be a URL of at most 255 characters")
    parts = urlsplit(url)
    if parts.username or parts.password or parts.fragment:
        raise CallbackRefused("no user, password or fragment in a callback URL")
    host = (parts.hostname or "").lower()
    if not host:
        raise CallbackRefused("the callback URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise CallbackRefused("the callback URL's port is invalid") from None
    hosts, nets = _allow_entries(allow)
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise CallbackRefused(f"the callback host {host} does not resolve") from None
    addresses = sorted({info[4][0] for info in infos})
    if not addresses:
        raise CallbackRefused(f"the callback host {host} does not resolve")
    ips = [ipaddress.ip_address(a.split("%")[0]) for a in addresses]
    listed = host in hosts or all(any(ip in n for n in nets) for ip in ips)
    if not listed:
        for ip in ips:
            if not _public(ip):
                raise CallbackRefused(f"the callback host {host} resolves to a non-public address ({ip}): "
                                      "loopback, private and link-local targets are refused unless allowlisted")
    if parts.scheme != "https" and not (parts.scheme == "http" and listed):
        raise CallbackRefused("callback URLs must use https")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, addresses[0])


def join(base: str, suffix: str) -> str:
    return base.rstrip("/") + suffix


def load_key(cfg) -> tuple[str, Ed25519PrivateKey]:
    """(kid, key) from ZEROTRIP_EXCHANGE_SIGNING_KEY; outside production a development key under instance/."""
    text = (cfg.exchange_signing_key or "").strip().replace("\\n", "\n")
    if not text:
        if getattr(cfg, "env", "") == "production":
            raise RuntimeError("ZEROTRIP_EXCHANGE_SIGNING_KEY is not set")
        path = Path(cfg.instance_path) / "dev-exchange_signing.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            seed = Ed25519PrivateKey.generate().private_bytes_raw()
            path.write_text(base64.b64encode(seed).decode())
            path.chmod(0o600)
        text = path.read_text().strip()
    if text.startswith("-----BEGIN"):
        key = load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise RuntimeError("ZEROTRIP_EXCHANGE_SIGNING_KEY is not an Ed25519 key")
    else:
        key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(text))
    return cfg.exchange_signing_kid, key


def public_key(cfg) -> dict:
    kid, key = load_key(cfg)
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kid": kid, "alg": "Ed25519", "public_key": base64.b64encode(raw).decode(), "sender_id": SENDER_ID}


def signed_headers(cfg, path: str, timestamp: int, message_id: str, body: bytes) -> dict[str, str]:
    kid, key = load_key(cfg)
    text = "\n".join((PREFIX, "POST", path, str(int(timestamp)), message_id,
                      hashlib.sha256(body).hexdigest())).encode()
    return {"X-ZT-Client": SENDER_ID, "X-ZT-Key": kid, "X-ZT-Timestamp": str(int(timestamp)),
            "X-ZT-Message-Id": message_id, "X-ZT-Signature": base64.b64encode(key.sign(text)).decode(),
            "Content-Type": "application/json"}


def send(cfg, url: str, envelope: dict, message_id: str, now: float, timeout: float) -> Outcome:
    """POST the envelope, signed, to the checked address. 2xx → ok; 408/425/429/5xx and transport errors →
    retry; a redirect or another 4xx → failed (a refused target too)."""
    try:
        target = check_url(url, cfg.exchange_callback_allow)
    except CallbackRefused as exc:
        return Outcome(FAILED, "callback", errcode="refused", error=str(exc))
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
    headers = signed_headers(cfg, target.path, int(now), message_id, body)
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    headers["Host"] = host_header
    t = urllib3.Timeout(connect=timeout, read=timeout)
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(target.address, target.port, timeout=t, retries=False,
                                           server_hostname=target.host, assert_hostname=target.host,
                                           cert_reqs="CERT_REQUIRED")
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=t, retries=False)
    try:
        resp = pool.urlopen("POST", target.path, body=body, headers=headers, redirect=False, retries=False,
                            preload_content=True)
    except urllib3.exceptions.HTTPError as exc:
        return Outcome(RETRY, "callback", errcode="transport", error=f"{type(exc).__name__}: {exc}"[:300])
    finally:
        pool.close()
    status = resp.status
    if 200 <= status < 300:
        return Outcome(OK, "callback", msgid=_receipt(resp.data, status))
    if status in (408, 425, 429) or status >= 500:
        delay = resp.headers.get("Retry-After", "")
        return Outcome(RETRY, "callback", errcode=status, error=f"HTTP {status}",
                       min_delay=float(delay) if digits.is_ascii_digits(delay) else 0.0)
    if 300 <= status < 400:
        return Outcome(FAILED, "callback", errcode=status, error=f"HTTP {status}: redirects are not followed")
    return Outcome(FAILED, "callback", errcode=status, error=f"HTTP {status}")


def _receipt(data: bytes, status: int) -> str:
    """The receiver's acknowledgement kept as the row's receipt: its correlation id when it gave one."""
    try:
        answer = json.loads(data or b"{}")
        message = answer.get("message") if isinstance(answer, dict) else None
        ack = (message or {}).get("correlation_id") or (message or {}).get("ack_status")
        if ack:
            return str(ack)[:40]
    except (ValueError, AttributeError):
        pass
    return f"HTTP {status}"
