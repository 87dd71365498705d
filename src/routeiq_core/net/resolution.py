"""Resolve a host once and check every address: the address list a guarded connection may use."""

from __future__ import annotations

import socket
from ipaddress import ip_address
from typing import Protocol

import anyio

from routeiq_core.errors import UnsafeUpstreamError, UpstreamError
from routeiq_core.net.ssrf import AddressPolicy, IPAddress

DNS_TIMEOUT_S = 5.0


class Resolver(Protocol):
    """Port: turns a host name into the addresses it names (one lookup, no checking)."""

    async def resolve(self, host: str, port: int) -> list[str]:
        """Every address ``host`` resolves to, as text (``"203.0.113.5"``, ``"2001:db8::1"``).

        Args:
            host: A DNS name (never an address literal: those are not looked up).
            port: The port that will be connected to (some resolvers need it).

        Raises:
            OSError: The lookup failed (``socket.gaierror`` for an unknown name).
        """
        ...


async def resolve_checked(
    host: str, port: int, *, policy: AddressPolicy, resolver: Resolver, timeout_s: float = DNS_TIMEOUT_S
) -> tuple[IPAddress, ...]:
    """The addresses a connection to ``host`` may use: resolved once, every one checked.

    An address literal (any spelling) is checked without a lookup. A name is resolved once with a
    deadline; if *any* answer is refused the whole host is refused (a mixed answer is how DNS
    rebinding hides), and lookup failures refuse the connection rather than fall back to anything.

    Args:
        host: The URL's host.
        port: The port to connect to.
        policy: What may be reached.
        resolver: The lookup to use.
        timeout_s: Deadline of the lookup.

    Returns:
        The checked addresses, in the resolver's order, without duplicates.

    Raises:
        UnsafeUpstreamError: The host, or one of its addresses, may not be reached.
        UpstreamError: The lookup failed, timed out or answered nothing (code ``dns_error``).
    """
    literal = policy.check_host(host)
    if literal is not None:
        return (literal,)
    answers = await _lookup(host, port, resolver, timeout_s)
    addresses: dict[IPAddress, None] = {}
    for answer in answers:
        try:
            address = ip_address(answer)
        except ValueError:
            raise UnsafeUpstreamError(
                host, "its resolver answered something that is not an address"
            ) from None
        policy.check(address, host=host, resolved=True)
        addresses[address] = None
    if not addresses:
        raise UpstreamError(f"DNS lookup of {host!r} returned no address", code="dns_error")
    return tuple(addresses)


async def _lookup(host: str, port: int, resolver: Resolver, timeout_s: float) -> list[str]:
    try:
        with anyio.fail_after(timeout_s):
            return await resolver.resolve(host, port)
    except TimeoutError:
        raise UpstreamError(
            f"DNS lookup of {host!r} timed out after {timeout_s:g}s", retryable=True, code="dns_error"
        ) from None
    except OSError as exc:
        transient = isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_AGAIN
        detail = exc.strerror or str(exc) or type(exc).__name__
        raise UpstreamError(
            f"DNS lookup of {host!r} failed: {detail}", retryable=transient, code="dns_error"
        ) from None
