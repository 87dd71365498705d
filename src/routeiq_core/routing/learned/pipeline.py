"""A routing model ready to serve: the embedder, the quality router and the cost model together."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import anyio.to_thread
import msgspec
import numpy as np

from routeiq_core.routing.learned.costs import CostModel
from routeiq_core.routing.learned.embedding import Embedder
from routeiq_core.routing.learned.router import FloatArray, QualityRouter, decide_batch


class RouteDecision(msgspec.Struct, frozen=True, kw_only=True):
    """The routing decision for one prompt.

    Attributes:
        model: The chosen model.
        index: Its column in ``models``.
        models: Candidate models.
        predicted_quality: Predicted quality per candidate.
        estimated_cost: Estimated cost per candidate.
        cost_weight: The lambda the decision used.
    """

    model: str
    index: int
    models: tuple[str, ...]
    predicted_quality: tuple[float, ...]
    estimated_cost: tuple[float, ...]
    cost_weight: float


class RoutingModel:
    """Routes prompts end to end: embed, predict per-model quality, trade off against estimated cost.

    Args:
        embedder: Turns prompts into the embeddings ``router`` was trained on.
        router: Predicts per-model quality.
        costs: Estimates per-model cost of a prompt.
        metadata: Free-form facts about training (kept by artifacts).
        max_threads: Worker threads :meth:`aroute` may use at once. Few is better: the hashing embedder
            holds the GIL part of the time, and every extra busy thread delays the event loop's turn.
    """

    def __init__(
        self,
        *,
        embedder: Embedder,
        router: QualityRouter,
        costs: CostModel,
        metadata: dict[str, object] | None = None,
        max_threads: int = 2,
    ) -> None:
        if costs.models != router.models:
            raise ValueError(f"cost model models {costs.models} differ from router models {router.models}")
        self.embedder, self.router, self.costs = embedder, router, costs
        self.metadata = dict(metadata or {})
        self.max_threads = max_threads
        self._limiter: anyio.CapacityLimiter | None = None

    @property
    def models(self) -> tuple[str, ...]:
        """Candidate models (column order)."""
        return self.router.models

    def predict(self, prompts: Sequence[str]) -> FloatArray:
        """Predicted quality ``(n, m)`` for raw prompts."""
        return self.router.predict(self.embedder.embed(prompts))

    def route(self, prompts: Sequence[str], cost_weight: float = 0.0) -> list[RouteDecision]:
        """One :class:`RouteDecision` per prompt: ``argmax(quality - cost_weight * cost)``, ties cheaper."""
        quality = self.predict(prompts)
        costs = self.costs.estimate(prompts)
        chosen = decide_batch(quality, costs, cost_weight)
        return [
            RouteDecision(
                model=self.models[int(c)],
                index=int(c),
                models=self.models,
                predicted_quality=tuple(float(v) for v in quality[i]),
                estimated_cost=tuple(float(v) for v in costs[i]),
                cost_weight=float(cost_weight),
            )
            for i, c in enumerate(chosen)
        ]

    async def aroute(self, prompts: Sequence[str], cost_weight: float = 0.0) -> list[RouteDecision]:
        """:meth:`route` on a worker thread, so embedding and search never stall the event loop."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.max_threads)
        return await anyio.to_thread.run_sync(self.route, list(prompts), cost_weight, limiter=self._limiter)

    def choose(self, prompts: Sequence[str], cost_weight: float = 0.0) -> list[str]:
        """Just the chosen model names."""
        quality = self.predict(prompts)
        chosen = decide_batch(quality, self.costs.estimate(prompts), cost_weight)
        return [self.models[int(c)] for c in np.asarray(chosen)]
