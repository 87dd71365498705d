"""The MCP upstream port: how the gateway talks to one upstream MCP server, whatever its transport.

Messages stay raw JSON where the gateway does not need to look inside them, so fields this
gateway does not model (new protocol fields, vendor extensions) reach the client unchanged.

Two protocol eras exist upstream as on the client side:

- ``2026-07-28`` (current): sessionless; every request is self-contained.
- ``2025-11-25`` and earlier (legacy): ``initialize`` opens a session the upstream names with
  ``Mcp-Session-Id``; later requests carry it.

An adapter detects (or is told) its upstream's era and hides it: callers ask for a method and get
the upstream's JSON-RPC ``result`` or ``error``. For a legacy upstream the caller may pass an upstream
session it opened with :meth:`McpUpstream.open_session` (a legacy client's session, so server→client
requests and subscriptions stay with that client); without one the adapter uses a session of its own,
opened lazily and re-opened when the upstream forgets it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, Protocol

import msgspec

__all__ = [
    "CURRENT_ERA",
    "LEGACY_ERA",
    "McpUpstream",
    "OnUpstreamMessage",
    "UpstreamCall",
    "UpstreamReply",
    "UpstreamSession",
    "UpstreamState",
    "UpstreamStatus",
]

CURRENT_ERA = "2026-07-28"
"""The sessionless protocol revision."""
LEGACY_ERA = "2025-11-25"
"""The newest session-based revision (older session-based revisions negotiate down from it)."""

UpstreamState = Literal["starting", "up", "down", "stopped"]

OnUpstreamMessage = Callable[[bytes], Awaitable[None]]
"""Receives each message the upstream sends while a request runs, as raw JSON-RPC bytes: progress,
logging and other notifications, and server→client requests (sampling, elicitation, roots)."""


class UpstreamStatus(msgspec.Struct, frozen=True, kw_only=True):
    """What an upstream looks like from this worker right now (``/admin/mcp/servers`` shows it).

    Attributes:
        name: The upstream's slug from config.
        transport: ``http`` or ``stdio``.
        state: ``starting``, ``up``, ``down`` (its last exchange failed) or ``stopped``.
        era: The protocol revision it speaks (None until known).
        last_error: The last failure, redacted of secrets (None when the last exchange worked).
        restarts: How many times a stdio upstream's process was restarted.
    """

    name: str
    transport: Literal["http", "stdio"]
    state: UpstreamState
    era: str | None = None
    last_error: str | None = None
    restarts: int = 0


class UpstreamSession(msgspec.Struct, frozen=True, kw_only=True):
    """An upstream session opened for a legacy client (or the answer of ``server/discover``).

    Attributes:
        session_id: The upstream's ``Mcp-Session-Id`` (None: the upstream is sessionless or stdio).
        protocol_version: The revision the upstream agreed.
        capabilities: The upstream's ``capabilities`` object.
        server_info: The upstream's ``serverInfo`` (name, version, ...), if it sent one.
        instructions: The upstream's ``instructions``, if any.
    """

    session_id: str | None
    protocol_version: str
    capabilities: dict[str, Any] = msgspec.field(default_factory=dict)
    server_info: dict[str, Any] | None = None
    instructions: str | None = None


class UpstreamCall(msgspec.Struct, frozen=True, kw_only=True):
    """One JSON-RPC request to send upstream.

    Attributes:
        method: The JSON-RPC method (``tools/call``, ``resources/read``, ...).
        params: The params object as the upstream must see it (names already de-namespaced;
            ``_meta`` kept as the client sent it, ``traceparent`` included); None for no params.
        session: A legacy upstream session opened by :meth:`McpUpstream.open_session`; None: the
            adapter's own session (legacy) or none (current era, stdio).
        headers: Extra HTTP headers for the upstream (the client's ``Mcp-Param-*`` headers); adapters
            that do not speak HTTP ignore them.
        timeout_s: The longest the whole request may take; None: the upstream's configured timeout.
    """

    method: str
    params: dict[str, Any] | None = None
    session: str | None = None
    headers: Mapping[str, str] = msgspec.field(default_factory=dict)
    timeout_s: float | None = None


class UpstreamReply(msgspec.Struct, frozen=True, kw_only=True):
    """The upstream's answer to one request: exactly one of ``result`` and ``error``.

    Attributes:
        result: The JSON-RPC ``result`` as the upstream sent it.
        error: The JSON-RPC ``error`` object (``code``, ``message``, ``data``) as the upstream sent it.
        session: The upstream session the answer came on, when the adapter had to open a new one
            because the upstream forgot the one passed in (the caller should use it next time).
    """

    result: msgspec.Raw | None = None
    error: dict[str, Any] | None = None
    session: str | None = None


class McpUpstream(Protocol):
    """Port to one upstream MCP server. Every call is bounded by a timeout.

    Adapters raise :class:`routeiq_core.errors.UpstreamError` (or its timeout subclass) when the
    upstream cannot be reached, answers with something that is not JSON-RPC, or times out; a JSON-RPC
    error the upstream sent is an :class:`UpstreamReply` with ``error`` set, not an exception.
    """

    @property
    def name(self) -> str:
        """The upstream's slug from config."""
        ...

    def status(self) -> UpstreamStatus:
        """Its state as this worker sees it."""
        ...

    async def start(self) -> None:
        """Get ready: detect the era, spawn a stdio process. Never raises; a failure shows in status."""
        ...

    async def aclose(self) -> None:
        """Close sessions and connections, stop a stdio process."""
        ...

    async def open_session(
        self, *, client_info: Mapping[str, Any], capabilities: Mapping[str, Any]
    ) -> UpstreamSession:
        """Open an upstream session for a legacy client (``initialize`` + ``notifications/initialized``).

        A current-era upstream answers with its ``server/discover`` result and ``session_id=None``.
        """
        ...

    async def request(self, call: UpstreamCall, on_message: OnUpstreamMessage | None = None) -> UpstreamReply:
        """Send one request and wait for its answer, relaying what arrives meanwhile to ``on_message``.

        Cancelling the awaiting task cancels the upstream request (the HTTP exchange is closed; a
        legacy or stdio upstream also gets ``notifications/cancelled``).
        """
        ...

    async def notify(self, method: str, params: dict[str, Any] | None, *, session: str | None = None) -> None:
        """Send one notification (no answer expected)."""
        ...

    async def reply(self, message: bytes, *, session: str | None = None) -> None:
        """Deliver a client's JSON-RPC response to a server→client request the upstream made."""
        ...

    async def close_session(self, session: str) -> None:
        """End a legacy upstream session (HTTP DELETE); errors are ignored."""
        ...
