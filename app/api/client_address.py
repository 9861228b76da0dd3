"""The client's address: the TCP peer, or — behind a trusted reverse proxy — what the proxies saw.

`ZEROTRIP_TRUSTED_PROXIES` lists addresses and CIDRs. `X-Forwarded-For` is read only when the TCP peer is
one of them; the client is then the right-most entry that is not a trusted proxy (entries to its left were
written by the client and prove nothing). Unset, the header is ignored: a client cannot pick its own
address to dodge a per-address limit.
"""

from __future__ import annotations

import functools
import ipaddress

from app.config import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def trusted_networks(spec: str) -> tuple[Network, ...]:
    networks = []
    for entry in spec.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ConfigError(f"ZEROTRIP_TRUSTED_PROXIES: {entry!r} is not an address or CIDR") from None
    return tuple(networks)


def _address(text: str):
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address, networks: tuple[Network, ...]) -> bool:
    if address is None:
        return False
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in networks)


def client_address(peer: str | None, forwarded_for: list[str], trusted: str) -> str:
    """The address to key limits and logs on (see the module docstring)."""
    peer = peer or "unknown"
    networks = trusted_networks(trusted) if trusted else ()
    if not networks or not _trusted(_address(peer), networks):
        return peer
    entries = [e.strip() for value in forwarded_for for e in value.split(",") if e.strip()]
    for entry in reversed(entries):
        address = _address(entry)
        if address is None:
            return peer  # not written by a proxy of ours: trust nothing beyond the peer
        if not _trusted(address, networks):
            return str(address)
    return str(_address(entries[0])) if entries else peer


@functools.lru_cache(maxsize=4096)
def limit_key(address: str) -> str:
    """What a per-address limit counts: an IPv4 address as it is (an IPv4-mapped IPv6 one too), an IPv6 client by
    its /64 — one subscriber is given a whole /64 and could otherwise rotate through its addresses."""
    parsed = _address(address)
    if parsed is None:
        return address
    if getattr(parsed, "ipv4_mapped", None):
        return str(parsed.ipv4_mapped)
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
