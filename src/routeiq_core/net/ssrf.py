"""The SSRF address policy: which addresses an outbound connection may reach.

Pure and synchronous: it parses host literals the way the C library would (every ``inet_aton``
spelling of IPv4, bracketed and zoned IPv6) and classifies addresses. Resolution lives in
:mod:`routeiq_core.net.resolution`; the aiohttp wiring in ``routeiq_adapters.net``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network

import msgspec

from routeiq_core.errors import UnsafeUpstreamError

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

# Most specific first: the first network that holds an address names the reason.
_FORBIDDEN_V4: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(cidr), reason)
    for cidr, reason in (
        ("0.0.0.0/32", "unspecified"),
        ("0.0.0.0/8", "reserved (this-network)"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared (CGNAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.169.254/32", "link-local (cloud metadata)"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved (IETF protocol assignments)"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "reserved (6to4 relay)"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
    )
)
_FORBIDDEN_V6: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(cidr), reason)
    for cidr, reason in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible IPv6"),
        ("64:ff9b:1::/48", "private (local-use NAT64)"),
        ("100::/64", "reserved (discard-only)"),
        ("2001:db8::/32", "documentation"),
        ("2001:10::/28", "reserved (ORCHID)"),
        ("3fff::/20", "documentation"),
        ("fc00::/7", "unique-local (ULA)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)
_MAPPED = IPv6Network("::ffff:0:0/96")
_NAT64 = IPv6Network("64:ff9b::/96")
_TEREDO = IPv6Network("2001::/32")
_SIX_TO_FOUR = IPv6Network("2002::/16")
_GLOBAL_UNICAST_V6 = IPv6Network("2000::/3")
_MAX_HOST_LENGTH = 253
_ALLOW_LIST_HINT = "only public addresses are reachable, unless their network is allow-listed as private"
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?", re.IGNORECASE)
_HEX_PART = re.compile(r"0x[0-9a-f]+", re.IGNORECASE)
_OCTAL_PART = re.compile(r"0[0-7]*")
_DECIMAL_PART = re.compile(r"[1-9][0-9]*")


def parse_host_literal(host: str) -> IPAddress | None:
    """The address a host names literally, or ``None`` when it is a name to resolve.

    IPv4 is read as ``inet_aton`` reads it, so ``2130706433``, ``0x7f.1``, ``0177.0.0.1`` and
    ``127.1`` are all 127.0.0.1; IPv6 may be bracketed and carry a zone (``[fe80::1%25eth0]``).
    Full-width digits and dots are folded first (NFKC), as IDNA would before any lookup.

    Args:
        host: A URL's host, as written.

    Returns:
        The address, or ``None`` if ``host`` is not an address literal.
    """
    if not host.isascii():
        host = unicodedata.normalize("NFKC", host).translate(_DOTS)
    if host.startswith("[") and host.endswith("]"):
        return _parse_ipv6(host[1:-1])
    if ":" in host:
        return _parse_ipv6(host)
    return _parse_ipv4(host.removesuffix("."))


def _parse_ipv6(text: str) -> IPv6Address | None:
    if "%" in text:
        text = text.replace("%25", "%", 1)
    try:
        return IPv6Address(text)
    except ValueError:
        return None


def _parse_ipv4(text: str) -> IPv4Address | None:
    if len(text) > _MAX_HOST_LENGTH:
        return None
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        number = _ipv4_part(part)
        if number is None:
            return None
        numbers.append(number)
    *leading, last = numbers
    if any(n > 0xFF for n in leading) or last >= 1 << (8 * (5 - len(numbers))):
        return None
    value = last
    for index, number in enumerate(leading):
        value |= number << (8 * (3 - index))
    return IPv4Address(value)


def _ipv4_part(part: str) -> int | None:
    if _HEX_PART.fullmatch(part):
        return int(part[2:], 16)
    if _OCTAL_PART.fullmatch(part):
        return int(part, 8)
    if _DECIMAL_PART.fullmatch(part):
        return int(part)
    return None


def is_valid_hostname(host: str) -> bool:
    """Whether ``host`` is a plain DNS name (ASCII letters, digits, ``-``, ``_``; an optional final dot).

    Args:
        host: A URL's host (IDNA already applied).
    """
    name = host.removesuffix(".")
    return 0 < len(name) <= _MAX_HOST_LENGTH and all(_LABEL.fullmatch(label) for label in name.split("."))


def refusal_reason(address: IPAddress) -> str | None:
    """Why an outbound connection to ``address`` is refused, or ``None`` if it is a public address.

    IPv4-mapped (``::ffff:a.b.c.d``) and IPv4-compatible addresses are always refused; 6to4, NAT64
    and Teredo addresses are refused when the IPv4 address they embed would be.

    Args:
        address: The address to classify (a zone id is ignored).
    """
    if isinstance(address, IPv4Address):
        return _first_match(address, _FORBIDDEN_V4) or (None if address.is_global else "reserved")
    address = IPv6Address(int(address))  # drops the zone id
    if address in _MAPPED:
        inner = refusal_reason(IPv4Address(int(address) & 0xFFFFFFFF))
        return f"IPv4-mapped IPv6 ({inner})" if inner else "IPv4-mapped IPv6"
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        kind, inner_addresses = embedded
        inner_reasons = [r for a in inner_addresses if (r := refusal_reason(a))]
        return f"{kind} (embedding {inner_reasons[0]} IPv4)" if inner_reasons else None
    reason = _first_match(address, _FORBIDDEN_V6)
    if reason is None and (address not in _GLOBAL_UNICAST_V6 or not address.is_global):
        return "reserved"
    return reason


def _first_match(address: IPAddress, table: Iterable[tuple[IPNetwork, str]]) -> str | None:
    return next((reason for network, reason in table if address in network), None)


def _embedded_ipv4(address: IPv6Address) -> tuple[str, tuple[IPv4Address, ...]] | None:
    if address in _NAT64:
        return "NAT64", (IPv4Address(int(address) & 0xFFFFFFFF),)
    if address in _SIX_TO_FOUR:
        return "6to4", (IPv4Address((int(address) >> 80) & 0xFFFFFFFF),)
    if address in _TEREDO:
        server = IPv4Address((int(address) >> 64) & 0xFFFFFFFF)
        client = IPv4Address(~int(address) & 0xFFFFFFFF)
        return "Teredo", (server, client)
    return None


class AddressPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Which addresses outbound connections may reach: public ones, plus the allow-listed networks.

    Attributes:
        allowed: Networks reachable although private (internal upstreams, test fixtures).
    """

    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_cidrs(cls, cidrs: Iterable[str]) -> AddressPolicy:
        """Build a policy from CIDR strings such as ``["10.20.0.0/16", "127.0.0.1/32"]``.

        Args:
            cidrs: The allow-listed networks; a bare address means just that address.

        Raises:
            ValueError: Naming every entry that is not a network (``10.0.0.1/8`` has host bits set).
        """
        networks: list[IPNetwork] = []
        problems: list[str] = []
        for cidr in cidrs:
            try:
                networks.append(ip_network(cidr.strip() if isinstance(cidr, str) else cidr))
            except (TypeError, ValueError) as exc:
                problems.append(f"{cidr!r} is not a network in CIDR notation ({exc})")
        if problems:
            raise ValueError("invalid private-network allow-list: " + "; ".join(problems))
        return cls(allowed=tuple(networks))

    def is_allowed(self, address: IPAddress) -> bool:
        """Whether ``address`` is in an allow-listed network (an IPv4-mapped address counts as its IPv4)."""
        if isinstance(address, IPv6Address):
            address = IPv6Address(int(address))
            if address in _MAPPED:
                return self.is_allowed(IPv4Address(int(address) & 0xFFFFFFFF))
        return any(address in network for network in self.allowed)

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` is refused under this policy, or ``None`` when it may be reached."""
        return None if self.is_allowed(address) else refusal_reason(address)

    def check(self, address: IPAddress, *, host: str, resolved: bool = False) -> None:
        """Refuse ``address`` unless it may be reached.

        Args:
            address: The literal or resolved address.
            host: The host as named, for the message (the address is never shown when resolved).
            resolved: ``address`` came from DNS rather than from the host itself.

        Raises:
            UnsafeUpstreamError: It is loopback, private, link-local, ... and not allow-listed.
        """
        reason = self.refusal(address)
        if reason is not None:
            verb = "it resolves to" if resolved else "it is"
            raise UnsafeUpstreamError(
                host, f"{verb} {_article(reason)} {reason} address", hint=_ALLOW_LIST_HINT
            )

    def check_host(self, host: str) -> IPAddress | None:
        """Check a host that is an address literal; names are left for resolution.

        Args:
            host: A URL's host.

        Returns:
            The literal's address (allowed), or ``None`` if ``host`` is a name.

        Raises:
            UnsafeUpstreamError: The literal is refused, or ``host`` is neither a literal nor a valid name.
        """
        address = parse_host_literal(host)
        if address is not None:
            self.check(address, host=host)
        elif not is_valid_hostname(host):
            raise UnsafeUpstreamError(host, "it is not a valid host name")
        return address


def _article(word: str) -> str:
    return "an" if word.startswith(("unspecified", "IPv4")) else "a"


__all__ = [
    "AddressPolicy",
    "IPAddress",
    "IPNetwork",
    "is_valid_hostname",
    "parse_host_literal",
    "refusal_reason",
]
