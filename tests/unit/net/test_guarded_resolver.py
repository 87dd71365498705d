"""GuardedResolver: what aiohttp's connector receives (numeric, checked, of the family asked for)."""

from __future__ import annotations

import socket

import pytest

from routeiq_adapters.net import GuardedResolver
from routeiq_core.errors import UnsafeUpstreamError, UpstreamError
from routeiq_core.net import AddressPolicy

pytestmark = pytest.mark.anyio


class FixedResolver:
    def __init__(self, answers: list[str]) -> None:
        self.answers = answers
        self.lookups = 0

    async def resolve(self, host: str, port: int) -> list[str]:
        self.lookups += 1
        return self.answers


async def test_the_connector_gets_numeric_checked_addresses_of_its_family() -> None:
    base = FixedResolver(["93.184.216.34", "2606:2800:220:1::1"])
    resolver = GuardedResolver(AddressPolicy(), base=base)
    both = await resolver.resolve("example.com", 443, family=socket.AF_UNSPEC)
    assert [(r["host"], r["family"], r["port"], r["hostname"]) for r in both] == [
        ("93.184.216.34", socket.AF_INET, 443, "example.com"),
        ("2606:2800:220:1::1", socket.AF_INET6, 443, "example.com"),
    ]
    assert all(r["flags"] & socket.AI_NUMERICHOST for r in both)
    only_v6 = await resolver.resolve("example.com", 443, family=socket.AF_INET6)
    assert [r["host"] for r in only_v6] == ["2606:2800:220:1::1"]
    assert base.lookups == 2


async def test_no_address_of_the_family_asked_for_is_an_error() -> None:
    resolver = GuardedResolver(AddressPolicy(), base=FixedResolver(["93.184.216.34"]))
    with pytest.raises(UpstreamError, match="no address of the family"):
        await resolver.resolve("example.com", 80, family=socket.AF_INET6)


@pytest.mark.parametrize("host", ["0x7f.1", "2130706433", "0177.0.0.1"])
async def test_odd_spellings_are_read_as_literals_not_looked_up(host: str) -> None:
    base = FixedResolver(["93.184.216.34"])
    with pytest.raises(UnsafeUpstreamError, match="loopback"):
        await GuardedResolver(AddressPolicy(), base=base).resolve(host, 80, family=socket.AF_UNSPEC)
    assert base.lookups == 0
