"""aiohttp's resolver slot filled by the SSRF guard: the connector only ever sees checked addresses.

aiohttp's ``TCPConnector`` asks its resolver for the addresses of a host and then connects to those
numeric addresses directly (no second lookup). :class:`GuardedResolver` resolves once, checks every
answer against the :class:`~routeiq_core.net.AddressPolicy` and hands back only what it checked —
so what is connected to is what was checked, and a DNS answer that changes afterwards (rebinding)
changes nothing. Odd literal spellings (``2130706433``, ``0x7f.1``) are read as the addresses they
are, never passed to ``getaddrinfo`` as names.
"""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult

from routeiq_adapters.net.getaddrinfo_resolver import GetaddrinfoResolver
from routeiq_core.errors import UpstreamError
from routeiq_core.net import DNS_TIMEOUT_S, AddressPolicy, Resolver, resolve_checked

_NUMERIC = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that refuses hosts the policy forbids and pins the rest to checked addresses.

    Args:
        policy: What may be reached.
        base: The lookup to use (default: the system resolver).
        timeout_s: Deadline of each lookup; a lookup that fails or times out refuses the connection.
    """

    def __init__(
        self, policy: AddressPolicy, *, base: Resolver | None = None, timeout_s: float = DNS_TIMEOUT_S
    ) -> None:
        self._policy = policy
        self._base: Resolver = base if base is not None else GetaddrinfoResolver()
        self._timeout_s = timeout_s

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The checked addresses of ``host`` of ``family`` (``AF_UNSPEC``: both).

        Raises:
            UnsafeUpstreamError: The host or one of its addresses is refused.
            UpstreamError: The lookup failed, or gave no address of ``family``.
        """
        addresses = await resolve_checked(
            host, port, policy=self._policy, resolver=self._base, timeout_s=self._timeout_s
        )
        results: list[ResolveResult] = []
        for address in addresses:
            address_family = socket.AF_INET if address.version == 4 else socket.AF_INET6
            if family in (socket.AF_UNSPEC, address_family):
                results.append(
                    {
                        "hostname": host,
                        "host": str(address),
                        "port": port,
                        "family": address_family,
                        "proto": 0,
                        "flags": _NUMERIC,
                    }
                )
        if not results:
            raise UpstreamError(f"{host!r} has no address of the family asked for", code="dns_error")
        return results

    async def close(self) -> None:
        """Nothing to release: lookups run in the shared worker threads."""
