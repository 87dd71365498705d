"""resolve_checked: one lookup, every answer checked, failures refuse (no sockets: a scripted resolver)."""

from __future__ import annotations

import math
import socket
import time
from ipaddress import ip_address

import anyio
import pytest

from routeiq_core.errors import UnsafeUpstreamError, UpstreamError
from routeiq_core.net import AddressPolicy, resolve_checked

pytestmark = pytest.mark.anyio


class ScriptedResolver:
    """Answers from a script, one entry per lookup (the last repeats); an exception entry is raised."""

    def __init__(self, *script: list[str] | BaseException, delay_s: float = 0.0) -> None:
        self.script = script
        self.delay_s = delay_s
        self.lookups: list[tuple[str, int]] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.lookups.append((host, port))
        if self.delay_s:
            await anyio.sleep(self.delay_s)
        answer = self.script[min(len(self.lookups), len(self.script)) - 1]
        if isinstance(answer, BaseException):
            raise answer
        return answer


async def test_a_public_name_resolves_once_to_its_checked_addresses() -> None:
    resolver = ScriptedResolver(["93.184.216.34", "2606:2800:220:1::1", "93.184.216.34"])
    addresses = await resolve_checked("example.com", 443, policy=AddressPolicy(), resolver=resolver)
    assert addresses == (ip_address("93.184.216.34"), ip_address("2606:2800:220:1::1"))
    assert resolver.lookups == [("example.com", 443)]


async def test_a_name_resolving_to_loopback_is_refused_without_showing_the_address() -> None:
    resolver = ScriptedResolver(["127.0.0.1"])
    with pytest.raises(UnsafeUpstreamError) as refused:
        await resolve_checked("evil.example", 80, policy=AddressPolicy(), resolver=resolver)
    assert refused.value.reason == "it resolves to a loopback address"
    assert "'evil.example'" in refused.value.message
    assert "127.0.0.1" not in refused.value.message


async def test_one_forbidden_answer_among_public_ones_refuses_the_host() -> None:
    resolver = ScriptedResolver(["93.184.216.34", "169.254.169.254"])
    with pytest.raises(UnsafeUpstreamError, match="cloud metadata"):
        await resolve_checked("mixed.example", 80, policy=AddressPolicy(), resolver=resolver)


async def test_the_allow_list_admits_resolved_private_addresses() -> None:
    resolver = ScriptedResolver(["10.20.0.5"])
    policy = AddressPolicy.from_cidrs(["10.20.0.0/16"])
    assert await resolve_checked("mcp.internal", 80, policy=policy, resolver=resolver) == (
        ip_address("10.20.0.5"),
    )
    with pytest.raises(UnsafeUpstreamError, match="private"):
        await resolve_checked("other.internal", 80, policy=policy, resolver=ScriptedResolver(["10.30.0.5"]))


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "127.1", "::1", "[::ffff:127.0.0.1]"])
async def test_literals_are_checked_without_a_lookup(host: str) -> None:
    resolver = ScriptedResolver(["93.184.216.34"])
    with pytest.raises(UnsafeUpstreamError, match=r"it is an? "):
        await resolve_checked(host, 80, policy=AddressPolicy(), resolver=resolver)
    assert resolver.lookups == []


async def test_an_allowed_literal_is_its_own_answer() -> None:
    resolver = ScriptedResolver(["93.184.216.34"])
    policy = AddressPolicy.from_cidrs(["127.0.0.0/8"])
    assert await resolve_checked("0x7f.1", 80, policy=policy, resolver=resolver) == (ip_address("127.0.0.1"),)
    assert resolver.lookups == []


async def test_a_failed_lookup_refuses_the_connection() -> None:
    unknown = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    with pytest.raises(UpstreamError) as failed:
        await resolve_checked("nx.example", 80, policy=AddressPolicy(), resolver=ScriptedResolver(unknown))
    assert failed.value.code == "dns_error"
    assert failed.value.message == "DNS lookup of 'nx.example' failed: Name or service not known"
    assert failed.value.status_code == 502
    assert not failed.value.retryable


async def test_a_temporary_lookup_failure_may_be_retried() -> None:
    again = socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    with pytest.raises(UpstreamError) as failed:
        await resolve_checked("flaky.example", 80, policy=AddressPolicy(), resolver=ScriptedResolver(again))
    assert failed.value.retryable


async def test_a_hanging_lookup_times_out_within_its_deadline() -> None:
    resolver = ScriptedResolver(["93.184.216.34"], delay_s=math.inf)
    started = time.monotonic()
    with pytest.raises(UpstreamError, match=r"timed out after 0\.05s") as failed:
        await resolve_checked("slow.example", 80, policy=AddressPolicy(), resolver=resolver, timeout_s=0.05)
    assert time.monotonic() - started < 1.0
    assert failed.value.code == "dns_error"
    assert failed.value.retryable


@pytest.mark.parametrize("answer", [[], ["not-an-address"]])
async def test_an_empty_or_garbled_answer_refuses(answer: list[str]) -> None:
    with pytest.raises(UpstreamError):
        await resolve_checked("odd.example", 80, policy=AddressPolicy(), resolver=ScriptedResolver(answer))


async def test_an_invalid_host_name_is_never_looked_up() -> None:
    resolver = ScriptedResolver(["93.184.216.34"])
    with pytest.raises(UnsafeUpstreamError, match="not a valid host name"):
        await resolve_checked("127.0.0.1 x", 80, policy=AddressPolicy(), resolver=resolver)
    assert resolver.lookups == []
