"""Authentication: from a bearer key to a :class:`Principal`, and the client address for rules.

Identity comes from the ``Authorization: Bearer`` key alone. Headers such as ``x-user-id`` or
``x-team-id`` and keys in query strings are never read: anyone can send them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

import anyio

from routeiq_core.access.errors import KeyStoreError
from routeiq_core.access.keys import KEY_PREFIX, MAX_KEY_LENGTH, KeyHasher, KeyStore
from routeiq_core.access.principal import Principal
from routeiq_core.errors import AuthenticationError, RouteIQError

logger = logging.getLogger("routeiq.auth")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Headers = Mapping[str, str] | Iterable[tuple[str, str]]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, if any."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


class Authenticator:
    """Resolves bearer keys: the master key is the admin; other keys are looked up by keyed hash.

    The master key is compared in constant time (digests of equal length, ``hmac.compare_digest``).
    A virtual key is looked up by its HMAC, so the database never sees the secret, and the hash found
    is compared in constant time again. Errors never echo the key; logs name only the key id.

    Args:
        store: Where virtual keys live (normally a :class:`CachedKeyStore`).
        hasher: The keyed hash the store's hashes were made with.
        master_key: The admin key; None disables it.
        anonymous: The principal of requests without a key (an open gateway); None requires a key.
        clock: Unix time, to check expiry.
        timeout_s: Longest wait for the store before failing with 503.
    """

    def __init__(
        self,
        *,
        store: KeyStore,
        hasher: KeyHasher,
        master_key: str | None = None,
        anonymous: Principal | None = None,
        clock: Callable[[], float] = time.time,
        timeout_s: float = 2.0,
    ) -> None:
        self._store = store
        self._hasher = hasher
        self._master_digest = _digest(master_key) if master_key else None
        self._anonymous = anonymous
        self._clock = clock
        self._timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"Authenticator(master_key={'<set>' if self._master_digest else None}, open={self.open})"

    @property
    def open(self) -> bool:
        """Whether requests without a key are admitted (as the anonymous principal)."""
        return self._anonymous is not None

    async def authenticate_headers(self, headers: Headers) -> Principal:
        """The principal of a request's headers: only ``Authorization`` is read (see :meth:`authenticate`)."""
        authorization = next((v for k, v in _pairs(headers) if k.lower() == "authorization"), None)
        return await self.authenticate(bearer_token(authorization))

    async def authenticate(self, token: str | None) -> Principal:
        """The principal a bearer token stands for.

        Raises:
            AuthenticationError: 401 when the key is missing, unknown, revoked or expired.
            KeyStoreError: 503 when the key store cannot answer in time.
        """
        if not token:
            if self._anonymous is not None:
                return self._anonymous
            raise AuthenticationError(
                "Missing API key: send 'Authorization: Bearer <key>'.", code="missing_api_key"
            )
        if self._master_digest is not None and hmac.compare_digest(_digest(token), self._master_digest):
            return Principal.admin()
        if not token.startswith(KEY_PREFIX) or len(token) > MAX_KEY_LENGTH:
            logger.info("authentication refused: not a RouteIQ key", extra={"reason": "format"})
            raise AuthenticationError("Invalid API key.")
        return await self._virtual_key(token)

    async def _virtual_key(self, token: str) -> Principal:
        key_hash = self._hasher.hash(token)
        try:
            with anyio.fail_after(self._timeout_s):
                record = await self._store.get_by_hash(key_hash)
        except RouteIQError:
            raise
        except Exception as exc:  # any driver failure: refuse, never admit
            logger.warning("key store unavailable during authentication: %r", exc)
            raise KeyStoreError("The key store is unavailable; try again shortly.") from exc
        if record is None or not hmac.compare_digest(record.key_hash.encode(), key_hash.encode()):
            logger.info("authentication refused: unknown key", extra={"reason": "unknown"})
            raise AuthenticationError("Invalid API key.")
        status = record.status(self._clock())
        if status != "active":
            logger.info(
                "authentication refused: key %s is %s",
                record.key_id,
                status,
                extra={"key_id": record.key_id, "reason": status},
            )
            raise AuthenticationError(f"This API key is {status}.", code=f"key_{status}")
        return record.principal()


def parse_networks(texts: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDRs (or single addresses) of trusted proxies.

    Raises:
        ValueError: naming every entry that is not an address or network.
    """
    networks: list[IPNetwork] = []
    problems: list[str] = []
    for text in texts:
        try:
            networks.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise ValueError("; ".join(problems))
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _pairs(headers: Headers) -> Iterable[tuple[str, str]]:
    return headers.items() if isinstance(headers, Mapping) else headers


def _forwarded_for(headers: Headers) -> list[str]:
    hops: list[str] = []
    for name, value in _pairs(headers):
        if name.lower() == "x-forwarded-for":
            hops.extend(part.strip() for part in value.split(",") if part.strip())
    return hops


def client_ip(headers: Headers, peer: str | None, trusted_proxies: Sequence[IPNetwork]) -> str | None:
    """The client's address: the peer, unless the peer is a trusted proxy.

    ``X-Forwarded-For`` is honoured only when the direct peer is inside ``trusted_proxies``; the list
    is then walked from the right, skipping trusted proxies, and the first other address is the
    client. Entries a client prepended itself are never reached, so spoofing it gains nothing.
    """
    if peer is None:
        return None
    current = _address(peer)
    if current is None or not _trusted(current, trusted_proxies):
        return str(current) if current is not None else peer
    for hop in reversed(_forwarded_for(headers)):
        address = _address(hop)
        if address is None:
            break  # garbage from an untrusted hop: stop at the last proxy we trust
        current = address
        if not _trusted(address, trusted_proxies):
            break
    return str(current)


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in networks)
