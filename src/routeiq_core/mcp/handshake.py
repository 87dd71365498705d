"""Opening, describing and closing the upstreams as one server: sessions, capabilities, replies.

A legacy client's ``initialize`` opens a session on every upstream at once (fail-open: an upstream
that cannot be reached is left out of the session, and requests to it use the adapter's own
session). ``server/discover`` and ``initialize`` advertise the union of the upstreams'
capabilities, as far as the gateway relays them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import msgspec

from routeiq_core.errors import UpstreamError
from routeiq_core.mcp.guard import GuardedUpstream
from routeiq_core.mcp.upstream import UpstreamSession

__all__ = ["Handshake", "Opened", "union_capabilities"]

logger = logging.getLogger("routeiq.mcp")

_RELAYED = ("tools", "resources", "prompts", "completions", "logging")
"""The server capabilities the gateway serves when an upstream has them (sub-features such as
``listChanged`` and resource subscriptions are not relayed, so they are not advertised)."""


def union_capabilities(
    each: Mapping[str, Mapping[str, Any]], *, subscriptions: bool = True
) -> dict[str, Any]:
    """The capabilities to advertise: every relayed one at least one upstream has.

    With ``subscriptions`` (legacy sessions: ``resources/subscribe`` is forwarded to the resource's
    upstream), ``resources.subscribe`` is kept when an upstream offers it.
    """
    union: dict[str, Any] = {name: {} for name in _RELAYED if any(name in caps for caps in each.values())}
    offered = any(
        isinstance(c.get("resources"), Mapping) and c["resources"].get("subscribe") for c in each.values()
    )
    if subscriptions and offered:
        union["resources"] = {"subscribe": True}
    return union


class Opened(msgspec.Struct, frozen=True, kw_only=True):
    """The upstream sessions opened for one legacy client, and what to tell it."""

    sessions: dict[str, str]
    capabilities: dict[str, Any]
    instructions: str | None = None


class Handshake:
    """Opens and closes upstream sessions; knows the upstreams' capabilities.

    Args:
        upstreams: The upstreams by slug.
        timeout_s: Each upstream's deadline for opening or closing a session.
        probe_ttl_s: How long one worker reuses an upstream's capabilities.
        clock: Monotonic seconds.
    """

    def __init__(
        self,
        upstreams: Mapping[str, GuardedUpstream],
        *,
        timeout_s: float = 10.0,
        probe_ttl_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._upstreams = dict(upstreams)
        self._timeout = timeout_s
        self._probe_ttl = probe_ttl_s
        self._clock = clock
        self._probed: dict[str, tuple[float, UpstreamSession]] = {}

    async def _each(
        self, client_info: Mapping[str, Any], capabilities: Mapping[str, Any]
    ) -> dict[str, UpstreamSession]:
        opened: dict[str, UpstreamSession] = {}

        async def one(name: str, upstream: GuardedUpstream) -> None:
            try:
                with anyio.fail_after(self._timeout):
                    opened[name] = await upstream.open_session(
                        client_info=client_info, capabilities=capabilities
                    )
            except (UpstreamError, TimeoutError) as exc:
                logger.info("MCP server %r could not open a session: %s", name, exc)

        async with anyio.create_task_group() as group:
            for name, upstream in self._upstreams.items():
                group.start_soon(one, name, upstream)
        return {name: opened[name] for name in self._upstreams if name in opened}

    async def open(self, client_info: Mapping[str, Any], capabilities: Mapping[str, Any]) -> Opened:
        """Open a session on every upstream that answers (for a legacy client's ``initialize``)."""
        opened = await self._each(client_info, capabilities)
        for name, session in opened.items():
            self._probed[name] = (self._clock(), session)
        return Opened(
            sessions={name: s.session_id for name, s in opened.items() if s.session_id is not None},
            capabilities=union_capabilities({name: s.capabilities for name, s in opened.items()}),
            instructions=_instructions(opened),
        )

    async def describe(self, *, subscriptions: bool = True) -> Opened:
        """The union of the upstreams' capabilities (``server/discover``), probed at most once a TTL.

        ``subscriptions``: whether resource subscriptions are served to the asking client's era.
        """
        now = self._clock()
        fresh = {
            n: s
            for n, (at, s) in self._probed.items()
            if now - at <= self._probe_ttl and n in self._upstreams
        }
        missing = [name for name in self._upstreams if name not in fresh]
        if missing:
            probe = Handshake({n: self._upstreams[n] for n in missing}, timeout_s=self._timeout)
            probed = await probe._each({"name": "routeiq", "version": "probe"}, {})
            for name, session in probed.items():
                self._probed[name] = (now, session)
                fresh[name] = session
                if session.session_id is not None:
                    await self.close({name: session.session_id})
        return Opened(
            sessions={},
            capabilities=union_capabilities(
                {name: s.capabilities for name, s in fresh.items()}, subscriptions=subscriptions
            ),
            instructions=_instructions(fresh),
        )

    async def close(self, sessions: Mapping[str, str]) -> None:
        """End upstream sessions (a legacy client's ``DELETE``); failures are ignored."""

        async def one(upstream: GuardedUpstream, session: str) -> None:
            with anyio.move_on_after(self._timeout):
                await upstream.upstream.close_session(session)

        async with anyio.create_task_group() as group:
            for name, session in sessions.items():
                if name in self._upstreams:
                    group.start_soon(one, self._upstreams[name], session)

    async def reply(self, server: str, session: str | None, message: bytes) -> bool:
        """Deliver a client's answer to an upstream's request; False when the upstream is gone."""
        upstream = self._upstreams.get(server)
        if upstream is None:
            return False
        try:
            with anyio.fail_after(self._timeout):
                await upstream.upstream.reply(message, session=session)
        except (UpstreamError, TimeoutError) as exc:
            logger.info("could not deliver a reply to MCP server %r: %s", server, exc)
            return False
        return True


def _instructions(sessions: Mapping[str, UpstreamSession]) -> str | None:
    parts = [f"{name}: {s.instructions}" for name, s in sessions.items() if s.instructions]
    return "\n\n".join(parts) or None
