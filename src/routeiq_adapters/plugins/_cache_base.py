"""What the exact and semantic cache plugins share: opt-in settings, hits, misses, and filling on a miss.

On a hit the plugin answers the request itself (a :class:`ShortCircuit`: the body, or for a stream
the body replayed as SSE chunks), so the provider is never called. On a miss it marks the answer
``x-routeiq-cache: miss`` and stores it once it is complete: the body of a non-streamed answer, or
the answer rebuilt from the stream's frames. A failing store is a miss, never a failed request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Generic, Literal, TypeVar

import msgspec

from routeiq_adapters.plugins._common import decode_body, split_frames, wants_usage
from routeiq_adapters.plugins.deps import PluginDeps
from routeiq_core import metric_names as names
from routeiq_core.cache.assemble import StreamAssembler
from routeiq_core.cache.entry import CachedResponse, replay_frames
from routeiq_core.cache.keys import tenant_scope
from routeiq_core.cache.policy import CachePolicy
from routeiq_core.cache.store import CacheStoreError
from routeiq_core.plugins.port import BasePlugin, PluginContext, PluginSpec, ShortCircuit

logger = logging.getLogger("routeiq.plugins")
CACHE_HEADER = "x-routeiq-cache"
PlanT = TypeVar("PlanT")


class CacheOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings both caches share.

    Attributes:
        ttl_s: How long an answer is served.
        per: Entries are shared within a team (``team``) or only within one API key (``key``).
        teams: Teams that use the cache, or ``all`` (everybody, the default).
        keys: Key ids that use the cache besides those teams.
        allow_temperature: Also cache sampled requests (``temperature`` > 0 or unset).
        allow_tools: Also cache requests offering tools or functions.
    """

    ttl_s: Annotated[float, msgspec.Meta(gt=0.0)] = 300.0
    per: Literal["team", "key"] = "team"
    teams: tuple[str, ...] | Literal["all"] = "all"
    keys: tuple[str, ...] = ()
    allow_temperature: bool = False
    allow_tools: bool = False

    def policy(self) -> CachePolicy:
        """The core cache policy these settings describe."""
        everyone = self.teams == "all"
        return CachePolicy(
            ttl_s=self.ttl_s,
            allow_temperature=self.allow_temperature,
            allow_tools=self.allow_tools,
            per=self.per,
            teams=None if everyone else frozenset(self.teams),
            keys=None if everyone else frozenset(self.keys),
        )


def model_group(ctx: PluginContext) -> str | None:
    """The model group the request asks for (resolved by the app; else the ``model`` it names)."""
    model = ctx.model_group or ctx.payload.get("model")
    return model if isinstance(model, str) and model else None


class ResponseCachePlugin(BasePlugin, Generic[PlanT]):
    """The request path of a response cache; subclasses say how to find and keep answers.

    A *plan* is what a subclass needs to look an answer up and store it (key, scope, prompt text);
    it lives in the request's scratch between ``before_request`` and the end of the answer.

    Args:
        options: The shared settings.
        deps: The app's services (metrics).
        spec: The plugin's declaration.
        clock: Unix time, stamped on stored entries.
    """

    cache_kind = "cache"

    def __init__(
        self,
        options: CacheOptions,
        deps: PluginDeps,
        spec: PluginSpec,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.spec = spec
        self.policy = options.policy()
        self._deps = deps
        self._clock = clock

    def plan(self, ctx: PluginContext, group: str, scope: str) -> PlanT | None:
        """What to look up and store for this request (None: this request is not cached)."""
        raise NotImplementedError

    async def lookup(self, plan: PlanT) -> tuple[CachedResponse, Mapping[str, str]] | None:
        """The cached answer and the headers announcing the hit, or None."""
        raise NotImplementedError

    async def store(self, plan: PlanT, entry: CachedResponse) -> None:
        """Keep ``entry`` as the answer of the planned request."""
        raise NotImplementedError

    def _count(self, result: str) -> None:
        self._deps.metrics.increment(names.CACHE_REQUESTS, 1.0, cache=self.cache_kind, result=result)

    async def before_request(self, ctx: PluginContext) -> dict[str, Any] | ShortCircuit | None:
        """Answer from the cache on a hit; on a miss, remember the plan to store the answer later."""
        group = model_group(ctx)
        if group is None or not self.policy.opted_in(team=ctx.team, key_id=ctx.key_id):
            return None
        if not self.policy.allows(ctx.payload, ctx.operation):
            return None
        plan = self.plan(ctx, group, tenant_scope(team=ctx.team, key_id=ctx.key_id, per=self.policy.per))
        if plan is None:
            return None
        try:
            found = await self.lookup(plan)
        except CacheStoreError as exc:
            self._count("error")
            logger.warning("%s lookup failed, treated as a miss: %s", self.spec.name, exc.message)
            found = None
        answer = self._answer(ctx, *found) if found is not None else None
        if answer is not None:
            self._count("hit")
            return answer
        self._count("miss")
        ctx.response_headers[CACHE_HEADER] = "miss"
        scratch = ctx.scratch(self.spec.name)
        scratch["plan"] = plan
        if ctx.stream:
            scratch["assembler"] = StreamAssembler()
        return None

    def _answer(
        self, ctx: PluginContext, entry: CachedResponse, headers: Mapping[str, str]
    ) -> ShortCircuit | None:
        if not ctx.stream:
            return ShortCircuit(body=entry.body, headers=dict(headers), usage=entry.usage)
        try:
            frames = replay_frames(entry, include_usage=wants_usage(ctx.payload))
        except (ValueError, msgspec.DecodeError):
            return None  # not replayable as a stream: answer from the upstream instead
        return ShortCircuit(frames=tuple(frames), headers=dict(headers), usage=entry.usage)

    async def on_stream_chunk(self, ctx: PluginContext, chunk: bytes) -> bytes:
        """Collect a missed stream's frames (the chunk passes unchanged)."""
        assembler = self._pending(ctx).get("assembler")
        if isinstance(assembler, StreamAssembler):
            for frame in split_frames(chunk):
                assembler.feed(frame)
        return chunk

    async def on_stream_end(self, ctx: PluginContext) -> list[bytes]:
        """Store a missed stream's answer once it finished cleanly."""
        assembler = self._pending(ctx).pop("assembler", None)
        body = assembler.body() if isinstance(assembler, StreamAssembler) else None
        if body is not None:
            await self._save(ctx, body)
        return []

    async def after_response(self, ctx: PluginContext, body: bytes | None) -> bytes | None:
        """Store a missed non-streamed answer."""
        if body is not None and not ctx.stream:
            await self._save(ctx, body)
        return None

    def _pending(self, ctx: PluginContext) -> dict[str, Any]:
        """This request's scratch if a miss left one (not created otherwise)."""
        return ctx.state.get(self.spec.name) or {}

    async def _save(self, ctx: PluginContext, body: bytes) -> None:
        plan = self._pending(ctx).pop("plan", None)
        group = model_group(ctx)
        if plan is None or group is None:
            return
        answer = decode_body(body)
        if answer is None or "error" in answer:
            return
        entry = CachedResponse(body=body, model_group=group, created=self._clock(), usage=ctx.usage)
        try:
            await self.store(plan, entry)
        except CacheStoreError as exc:
            self._count("store_error")
            logger.warning("%s store failed: %s", self.spec.name, exc.message)
