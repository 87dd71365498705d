"""Affinity: keep a conversation on the deployment that served it (prompt caches stay warm)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import cachetools

from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.routing.strategy import RouteContext

AffinityKey = Callable[[RouteContext], str | None]
"""Extracts the affinity key (a conversation id, a ``previous_response_id``) from a request."""


def conversation_key(context: RouteContext) -> str | None:
    """The request's ``conversation_id`` (None when it has none)."""
    return context.conversation_id or None


class AffinityStore(Protocol):
    """Remembers which deployment an affinity key is pinned to, for a while."""

    def get(self, key: str) -> str | None:
        """The deployment id pinned to ``key``, or None when unknown or expired."""
        ...

    def set(self, key: str, deployment_id: str, ttl_s: float) -> None:
        """Pin ``key`` to ``deployment_id`` for ``ttl_s`` seconds (replacing any pin)."""
        ...


class SharedAffinityStore(Protocol):
    """Pins shared between workers and nodes (Redis, say), consulted around the synchronous stage.

    Implementations bound every call with a timeout and never raise: when the shared store is
    unreachable, ``fetch`` answers None and ``store`` drops the write, so each worker falls back to
    its local pins.
    """

    async def fetch(self, key: str) -> str | None:
        """The deployment id pinned to ``key`` anywhere, or None."""
        ...

    async def store(self, key: str, deployment_id: str, ttl_s: float) -> None:
        """Pin ``key`` to ``deployment_id`` for ``ttl_s`` seconds for every worker."""
        ...


class InMemoryAffinityStore:
    """Affinity pins in this process: bounded (least recently used go first) and expiring per pin.

    Args:
        maxsize: Most pins kept.
        clock: Monotonic seconds.
    """

    def __init__(self, maxsize: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._pins: cachetools.TLRUCache[str, tuple[str, float], float] = cachetools.TLRUCache(
            maxsize=maxsize, ttu=_expires_at, timer=clock
        )

    def get(self, key: str) -> str | None:
        """The deployment id pinned to ``key``, or None when unknown or expired."""
        pin = self._pins.get(key)
        return pin[0] if pin is not None else None

    def set(self, key: str, deployment_id: str, ttl_s: float) -> None:
        """Pin ``key`` to ``deployment_id`` for ``ttl_s`` seconds (replacing any pin)."""
        self._pins.pop(key, None)
        if ttl_s > 0:
            self._pins[key] = (deployment_id, ttl_s)


def _expires_at(key: str, pin: tuple[str, float], now: float) -> float:
    return now + pin[1]


class AffinityStage:
    """A pipeline stage that keeps requests with the same key on the same deployment.

    Place it after the filters and the strategy stage: when the key's pinned deployment is still
    among the candidates it moves to the front (the rest keep the strategy's order); when there is no
    pin, or the pinned deployment was filtered out (gone, unhealthy, too small), the first candidate
    is pinned instead. Each use renews the pin's time to live, so an active conversation stays put.
    Requests without a key pass through untouched.

    With a ``shared`` store, :meth:`prepare` (awaited by the gateway before routing) copies the
    shared pin into the local store and :meth:`commit` (after the request was served) writes the
    serving deployment back, so a conversation stays put across workers; the stage itself never
    waits on the network.

    Args:
        store: This process's pins.
        key: Extracts the affinity key from the request.
        ttl_s: How long a pin outlives its last use.
        label: What the key is, for the recorded reason ("conversation", "response").
        shared: Pins shared across workers and nodes (None: this process only).
    """

    def __init__(
        self,
        store: AffinityStore,
        key: AffinityKey = conversation_key,
        *,
        ttl_s: float = 3600.0,
        label: str = "conversation",
        shared: SharedAffinityStore | None = None,
    ) -> None:
        self._store = store
        self._key = key
        self._ttl_s = ttl_s
        self._label = label
        self._shared = shared

    def _store_key(self, group: ModelGroup, context: RouteContext) -> str | None:
        """Where the request's pin lives: the group and the affinity key (None: no key)."""
        key = self._key(context)
        return None if key is None else f"{group.name}\x1f{key}"

    async def prepare(self, group: ModelGroup, context: RouteContext) -> None:
        """Adopt the shared pin of the request's key, if any (no-op without a shared store)."""
        store_key = self._store_key(group, context) if self._shared is not None else None
        if store_key is None or self._shared is None:
            return
        pinned = await self._shared.fetch(store_key)
        if pinned is not None:
            self._store.set(store_key, pinned, self._ttl_s)

    async def commit(self, group: ModelGroup, context: RouteContext, deployment_id: str) -> None:
        """:meth:`pin` locally, then share the pin (renewing its time to live everywhere)."""
        self.pin(group, context, deployment_id)
        store_key = self._store_key(group, context) if self._shared is not None else None
        if store_key is not None and self._shared is not None:
            await self._shared.store(store_key, deployment_id, self._ttl_s)

    def apply(
        self, group: ModelGroup, candidates: list[Deployment], context: RouteContext
    ) -> tuple[list[Deployment], str]:
        """The candidates with the pinned deployment first, pinning one if needed."""
        key = self._key(context)
        if key is None:
            return candidates, "affinity: no key"
        if not candidates:
            return candidates, f"affinity: {self._label} {key} has no candidate"
        store_key = f"{group.name}\x1f{key}"
        subject = f"{self._label} {key}"
        pinned = self._store.get(store_key)
        for i, d in enumerate(candidates):
            if d.id == pinned:
                self._store.set(store_key, d.id, self._ttl_s)
                return [d, *candidates[:i], *candidates[i + 1 :]], f"affinity: {subject} → {d.id}"
        chosen = candidates[0]
        self._store.set(store_key, chosen.id, self._ttl_s)
        if pinned is None:
            return candidates, f"affinity: {subject} pinned → {chosen.id}"
        return (
            candidates,
            f"affinity: {subject} re-pinned {pinned} → {chosen.id} ({pinned} unavailable)",
        )

    def pin(self, group: ModelGroup, context: RouteContext, deployment_id: str) -> None:
        """Pin the request's key to the deployment that actually served it (after a failover).

        Args:
            group: The model group that served the request.
            context: The request's routing context.
            deployment_id: The deployment that answered.
        """
        store_key = self._store_key(group, context)
        if store_key is not None:
            self._store.set(store_key, deployment_id, self._ttl_s)
