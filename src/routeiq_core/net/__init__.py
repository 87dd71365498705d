"""Outbound network safety: the one SSRF policy every user- or config-named URL goes through.

:class:`AddressPolicy` says which addresses may be reached (public ones plus allow-listed private
networks), :func:`parse_host_literal` reads every spelling of an address literal, and
:func:`resolve_checked` resolves a name once through a :class:`Resolver` and checks every answer.
The aiohttp wiring that pins connections to the checked addresses is ``routeiq_adapters.net``.
"""

from routeiq_core.net.resolution import DNS_TIMEOUT_S, Resolver, resolve_checked
from routeiq_core.net.ssrf import (
    AddressPolicy,
    IPAddress,
    IPNetwork,
    is_valid_hostname,
    parse_host_literal,
    refusal_reason,
)

__all__ = [
    "DNS_TIMEOUT_S",
    "AddressPolicy",
    "IPAddress",
    "IPNetwork",
    "Resolver",
    "is_valid_hostname",
    "parse_host_literal",
    "refusal_reason",
    "resolve_checked",
]
