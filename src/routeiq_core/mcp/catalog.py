"""What the upstreams offer: their lists fetched concurrently, fail-open, cached per worker briefly.

A list request fans out to every upstream at once, each bounded by its own deadline: an upstream
that is slow, down or answers with an error is skipped, and its outcome is reported with the
result, so one bad upstream never blocks or fails the others. Each upstream's complete list (all of
its pages, up to a bound) is kept for ``ttl_s`` seconds; a miss or a ``list_changed`` notification
refreshes it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Literal

import anyio
import msgspec

from routeiq_core.errors import UpstreamError
from routeiq_core.mcp.guard import GuardedUpstream
from routeiq_core.mcp.upstream import UpstreamCall

__all__ = ["LIST_METHODS", "ListKind", "Listing", "UpstreamCatalog", "UpstreamOutcome"]

logger = logging.getLogger("routeiq.mcp")

ListKind = Literal["tools", "resources", "resourceTemplates", "prompts"]
LIST_METHODS: Mapping[ListKind, str] = MappingProxyType(
    {
        "tools": "tools/list",
        "resources": "resources/list",
        "resourceTemplates": "resources/templates/list",
        "prompts": "prompts/list",
    }
)
"""The JSON-RPC method that lists each kind (the kind is also the result's key)."""

_decode_result = msgspec.json.Decoder(dict[str, Any])


class UpstreamOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """How one upstream fared in a fan-out (reported in the result's ``_meta``).

    Attributes:
        server: The upstream's slug.
        ok: Whether its list is included.
        cached: Whether it came from this worker's cache.
        error: Why it was skipped (None when ``ok``).
    """

    server: str
    ok: bool
    cached: bool = False
    error: str | None = None


class Listing(msgspec.Struct, frozen=True, kw_only=True):
    """The upstreams' items of one kind, in upstream order, and each upstream's outcome."""

    items: tuple[tuple[str, dict[str, Any]], ...]
    outcomes: tuple[UpstreamOutcome, ...]


class _Entry(msgspec.Struct, frozen=True):
    items: tuple[dict[str, Any], ...]
    fetched_at: float


class UpstreamCatalog:
    """Fetches and caches the upstreams' tools, resources, resource templates and prompts.

    Args:
        upstreams: The upstreams, by slug, in config order.
        ttl_s: How long one worker reuses an upstream's list.
        timeout_s: Each upstream's deadline for its whole list (all pages).
        max_pages: The most pages read from one upstream (a guard against endless cursors).
        clock: Monotonic seconds.
    """

    def __init__(
        self,
        upstreams: Mapping[str, GuardedUpstream],
        *,
        ttl_s: float = 30.0,
        timeout_s: float = 5.0,
        max_pages: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._upstreams = dict(upstreams)
        self._ttl = ttl_s
        self._timeout = timeout_s
        self._max_pages = max_pages
        self._clock = clock
        self._cache: dict[tuple[str, ListKind], _Entry] = {}

    @property
    def servers(self) -> tuple[str, ...]:
        """The upstreams' slugs, in config order."""
        return tuple(self._upstreams)

    def invalidate(self, server: str, kind: ListKind | None = None) -> None:
        """Forget a cached list (an upstream said ``notifications/*/list_changed``)."""
        for cached in [key for key in self._cache if key[0] == server and kind in (None, key[1])]:
            del self._cache[cached]

    def cached(self, server: str, kind: ListKind) -> tuple[dict[str, Any], ...] | None:
        """An upstream's fresh cached list, if this worker has one."""
        entry = self._cache.get((server, kind))
        if entry is None or self._clock() - entry.fetched_at > self._ttl:
            return None
        return entry.items

    async def list(self, kind: ListKind, servers: Sequence[str] | None = None) -> Listing:
        """Every upstream's items of ``kind`` (or those of ``servers``), fetched concurrently, fail-open."""
        names = [
            name for name in (servers if servers is not None else self._upstreams) if name in self._upstreams
        ]
        results: dict[str, tuple[tuple[dict[str, Any], ...], UpstreamOutcome]] = {}

        async def one(name: str) -> None:
            results[name] = await self._fetch(name, kind)

        async with anyio.create_task_group() as group:
            for name in names:
                group.start_soon(one, name)
        items = tuple((name, item) for name in names for item in results[name][0])
        return Listing(items=items, outcomes=tuple(results[name][1] for name in names))

    async def items(self, server: str, kind: ListKind) -> tuple[dict[str, Any], ...]:
        """One upstream's items of ``kind`` (cached or fetched; empty when it cannot be reached)."""
        return (await self._fetch(server, kind))[0]

    async def _fetch(self, server: str, kind: ListKind) -> tuple[tuple[dict[str, Any], ...], UpstreamOutcome]:
        hit = self.cached(server, kind)
        if hit is not None:
            return hit, UpstreamOutcome(server=server, ok=True, cached=True)
        try:
            with anyio.fail_after(self._timeout):
                items = await self._all_pages(self._upstreams[server], kind)
        except TimeoutError:
            return (), UpstreamOutcome(server=server, ok=False, error=f"no answer within {self._timeout:g} s")
        except (UpstreamError, _ListError) as exc:
            logger.info("MCP server %r could not list %s: %s", server, kind, exc)
            return (), UpstreamOutcome(server=server, ok=False, error=str(exc))
        self._cache[(server, kind)] = _Entry(items, self._clock())
        return items, UpstreamOutcome(server=server, ok=True)

    async def _all_pages(self, upstream: GuardedUpstream, kind: ListKind) -> tuple[dict[str, Any], ...]:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(self._max_pages):
            params = {"cursor": cursor} if cursor is not None else None
            reply = await upstream.request(UpstreamCall(method=LIST_METHODS[kind], params=params))
            if reply.error is not None or reply.result is None:
                message = (reply.error or {}).get("message", "no result")
                raise _ListError(f"it answered {LIST_METHODS[kind]} with an error: {message}")
            try:
                result = _decode_result.decode(reply.result)
            except msgspec.DecodeError as exc:
                raise _ListError(f"its {LIST_METHODS[kind]} result is not an object") from exc
            page = result.get(kind)
            if not isinstance(page, list):
                raise _ListError(f"its {LIST_METHODS[kind]} result has no {kind!r} list")
            items.extend(item for item in page if isinstance(item, dict))
            cursor = result.get("nextCursor")
            if not isinstance(cursor, str) or not cursor:
                break
        return tuple(items)


class _ListError(Exception):
    """An upstream's list answer cannot be used."""
