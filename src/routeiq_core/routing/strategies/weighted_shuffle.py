"""Weighted shuffle: each deployment is first with probability proportional to its weight."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.routing.strategy import RouteContext


class WeightedShuffle:
    """Orders candidates by a weighted random permutation (Efraimidis-Spirakis keys ``u**(1/w)``).

    The whole order is weighted, not only the first pick, so retries also spread by weight.
    """

    name = "simple-shuffle"

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def order(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> list[Deployment]:
        """A weighted random permutation of ``candidates``; zero-weight ones go last."""
        if len(candidates) <= 1:
            return list(candidates)
        keyed = []
        for d in candidates:
            u = self._rng.random() or 1e-12
            key = math.log(u) / d.weight if d.weight > 0 else -math.inf
            keyed.append((key, d))
        keyed.sort(key=lambda pair: pair[0], reverse=True)
        return [d for _, d in keyed]
