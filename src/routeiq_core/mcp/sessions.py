"""Legacy (2025-11-25 and earlier) client sessions as sealed tokens: any worker of any node resumes them.

The gateway keeps no session table. ``Mcp-Session-Id`` *is* the session: its contents (whose key it
belongs to, the negotiated revision, the upstream session ids, the client's capabilities, when it was
issued) encrypted and authenticated with a key every worker shares (:class:`Sealer`). A token that
was tampered with, sealed under another key, expired, ended (``DELETE``) or presented by another key
opens to nothing, and the surface answers 404 as the spec asks.

Ids of server→client requests relayed to the client are sealed the same way, so the client's answer
finds its upstream (and upstream session) from whichever worker receives it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import msgspec
from cachetools import TTLCache

__all__ = ["LegacySession", "LocalRevocations", "RelayedId", "Revocations", "Sealer", "SessionBook"]


class Sealer(Protocol):
    """Authenticated encryption of small blobs into URL-safe ASCII tokens."""

    def seal(self, data: bytes, *, purpose: bytes) -> str:
        """Encrypt and authenticate ``data``, binding ``purpose`` in (no token opens for another)."""
        ...

    def open(self, token: str, *, purpose: bytes) -> bytes | None:
        """The data sealed in ``token``, or None when it is not a token this sealer made for ``purpose``."""
        ...


class Revocations(Protocol):
    """Ended sessions, until they would have expired anyway. Calls are bounded and never raise."""

    async def revoke(self, session_id: str, ttl_s: float) -> None:
        """Remember that the session ended, for ``ttl_s`` seconds."""
        ...

    async def revoked(self, session_id: str) -> bool:
        """Whether the session ended."""
        ...


class LocalRevocations:
    """Ended sessions of this worker (other workers learn nothing of them).

    ``routeiq_adapters.state.redis_revocations`` shares them through Redis.

    Args:
        maxsize: The most ended sessions remembered (the oldest are forgotten first).
        ttl_s: How long one is remembered (the session lifetime).
    """

    def __init__(self, maxsize: int = 100_000, ttl_s: float = 24 * 3600.0) -> None:
        self._ended: TTLCache[str, bool] = TTLCache(maxsize=maxsize, ttl=ttl_s)

    async def revoke(self, session_id: str, ttl_s: float) -> None:
        """Remember that the session ended."""
        self._ended[session_id] = True

    async def revoked(self, session_id: str) -> bool:
        """Whether the session ended."""
        return session_id in self._ended


class LegacySession(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """What a legacy ``Mcp-Session-Id`` holds.

    Attributes:
        sid: A random id (ends the session in :class:`Revocations`).
        owner: The label of the key that opened it (a key id, ``admin`` or ``anonymous``).
        version: The negotiated protocol revision.
        issued_at: Unix time it was opened.
        upstream: Each upstream's session id (upstreams without sessions are absent).
        capabilities: The client's ``capabilities``.
    """

    sid: str
    owner: str
    version: str
    issued_at: float
    upstream: dict[str, str] = msgspec.field(default_factory=dict)
    capabilities: dict[str, Any] = msgspec.field(default_factory=dict)


class RelayedId(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """A server→client request's id as the client sees it: which upstream asked, and its own id."""

    server: str
    session: str | None
    id: Any
    owner: str = ""
    """The label of the client's key: another key's reply is refused."""


_SESSION = b"mcp-session"
_RELAY = b"mcp-relay"
_session_decoder = msgspec.msgpack.Decoder(LegacySession)
_relay_decoder = msgspec.msgpack.Decoder(RelayedId)
_encoder = msgspec.msgpack.Encoder()


class SessionBook:
    """Mints and opens sealed legacy sessions and relayed request ids.

    Args:
        sealer: Seals and opens tokens (every worker must share its key).
        ttl_s: How long a session lives after it was opened.
        revocations: Where ended sessions are remembered.
        clock: Unix time.
    """

    def __init__(
        self,
        sealer: Sealer,
        *,
        ttl_s: float = 24 * 3600.0,
        revocations: Revocations | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sealer = sealer
        self._ttl = ttl_s
        self._revocations = revocations or LocalRevocations(ttl_s=ttl_s)
        self._clock = clock

    def mint(
        self, *, owner: str, version: str, upstream: Mapping[str, str], capabilities: Mapping[str, Any]
    ) -> tuple[str, LegacySession]:
        """A new session and its token (the ``Mcp-Session-Id``)."""
        session = LegacySession(
            sid=secrets.token_hex(8),
            owner=owner,
            version=version,
            issued_at=self._clock(),
            upstream=dict(upstream),
            capabilities=dict(capabilities),
        )
        return self._sealer.seal(_encoder.encode(session), purpose=_SESSION), session

    async def open(self, token: str, *, owner: str) -> LegacySession | None:
        """The session of ``token`` if it is genuine, current, not ended and ``owner``'s; else None."""
        data = self._sealer.open(token, purpose=_SESSION)
        if data is None:
            return None
        try:
            session = _session_decoder.decode(data)
        except msgspec.DecodeError:
            return None
        age = self._clock() - session.issued_at
        if (
            session.owner != owner
            or not 0 <= age <= self._ttl
            or await self._revocations.revoked(session.sid)
        ):
            return None
        return session

    async def end(self, session: LegacySession) -> None:
        """End ``session``: its token opens to nothing afterwards."""
        remaining = max(1.0, self._ttl - (self._clock() - session.issued_at))
        await self._revocations.revoke(session.sid, remaining)

    def relay_id(self, server: str, session: str | None, request_id: Any, *, owner: str) -> str:
        """The id under which an upstream's request is relayed to ``owner``'s client."""
        relayed = RelayedId(server=server, session=session, id=request_id, owner=owner)
        return self._sealer.seal(_encoder.encode(relayed), purpose=_RELAY)

    def relayed(self, token: Any, *, owner: str) -> RelayedId | None:
        """What a relayed id stands for (None: not an id this gateway relayed to ``owner``)."""
        if not isinstance(token, str):
            return None
        data = self._sealer.open(token, purpose=_RELAY)
        if data is None:
            return None
        try:
            relayed = _relay_decoder.decode(data)
        except msgspec.DecodeError:
            return None
        return relayed if relayed.owner == owner else None
