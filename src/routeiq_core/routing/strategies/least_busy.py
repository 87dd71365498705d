"""Least busy: the deployment with the fewest calls in flight first."""

from __future__ import annotations

import random
from collections.abc import Sequence

from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.routing.stats import DeploymentStats
from routeiq_core.routing.strategy import RouteContext


class LeastBusy:
    """Orders candidates by the in-flight counts the gateway keeps in :class:`DeploymentStats`.

    Ties are broken uniformly at random, so idle deployments share the load instead of the first
    configured one taking every request.
    """

    name = "least-busy"

    def __init__(self, stats: DeploymentStats, rng: random.Random) -> None:
        self._stats = stats
        self._rng = rng

    def order(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> list[Deployment]:
        """``candidates`` by ascending in-flight calls; equal counts in random order."""
        if len(candidates) <= 1:
            return list(candidates)
        keyed = [((self._stats.in_flight(d.id), self._rng.random()), d) for d in candidates]
        keyed.sort(key=lambda pair: pair[0])
        return [d for _, d in keyed]
