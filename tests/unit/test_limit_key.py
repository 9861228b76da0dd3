"""Per-address limits count an IPv6 client by its /64 and an IPv4-mapped address as its IPv4: behind a trusted
proxy, 35 addresses of one /64 each got their own 30-a-minute allowance."""

from __future__ import annotations

import pytest

from app.api.client_address import limit_key


@pytest.mark.parametrize(("address", "key"), [
    ("203.0.113.7", "203.0.113.7"),
    ("::ffff:7.7.7.7", "7.7.7.7"),
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
    ("unknown", "unknown"),
])
def test_the_key_of_an_address(address, key):
    assert limit_key(address) == key


def test_a_whole_64_is_one_client_for_the_public_notices_limit(app, client, cfg):
    app.extensions["zerotrip_config"].trusted_proxies = "127.0.0.0/8"
    statuses = [client.get("/api/v1/public-notices?street=140105001",
                           headers={"X-Forwarded-For": f"2001:db8:1:2::{i:x}"}).status_code for i in range(1, 36)]
    assert statuses.count(429) >= 5 and set(statuses) == {200, 429}, statuses
