"""Latency based: power-of-two-choices on the latency EWMA the gateway measures."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.routing.stats import DeploymentStats
from routeiq_core.routing.strategy import RouteContext


class LatencyBased:
    """Prefers faster deployments without sending every request to the single fastest one.

    Deployments with no observed outcome yet come first (in random order) so each gets measured.
    The rest of the order is filled one position at a time by a power-of-two-choices draw: two of
    the remaining deployments are sampled and the one with the lower latency EWMA takes the
    position. The slowest deployment therefore never comes first while another is measured, and the
    fastest is favoured but does not take all the traffic (no herding when the EWMAs are stale).
    Deployments that have only ever failed have no latency and count as slowest.
    """

    name = "latency-based"

    def __init__(self, stats: DeploymentStats, rng: random.Random) -> None:
        self._stats = stats
        self._rng = rng

    def order(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> list[Deployment]:
        """Unmeasured candidates first, then the measured ones by successive two-choice draws."""
        if len(candidates) <= 1:
            return list(candidates)
        unseen: list[Deployment] = []
        pool: list[tuple[float, Deployment]] = []
        for d in candidates:
            snapshot = self._stats.snapshot(d.id)
            if snapshot.total_requests == 0:
                unseen.append(d)
            else:
                latency = snapshot.latency_ewma_s
                pool.append((math.inf if latency is None else latency, d))
        self._rng.shuffle(unseen)
        ordered = unseen
        while len(pool) > 1:
            # sample() returns the pair in random order, so preferring ``i`` on a tie is fair.
            i, j = self._rng.sample(range(len(pool)), 2)
            ordered.append(pool.pop(i if pool[i][0] <= pool[j][0] else j)[1])
        ordered.extend(d for _, d in pool)
        return ordered
