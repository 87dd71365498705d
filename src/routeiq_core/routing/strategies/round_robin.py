"""Round robin: each model group's candidates take turns at being first."""

from __future__ import annotations

from collections.abc import Sequence

from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.routing.strategy import RouteContext


class RoundRobin:
    """Rotates the candidates by one position per request, with one counter per model group.

    The rest of the order follows the rotation, so a retry goes to the next deployment in turn.
    Counters live on the instance (one per model group name, bounded by the configuration).
    """

    name = "round-robin"

    def __init__(self) -> None:
        self._counters: dict[str, int] = {}

    def order(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> list[Deployment]:
        """``candidates`` rotated so that the group's next deployment in turn comes first."""
        if len(candidates) <= 1:
            return list(candidates)
        name = group.pattern or group.name  # a wildcard group rotates once for all the names it serves
        turn = self._counters.get(name, 0)
        self._counters[name] = turn + 1
        start = turn % len(candidates)
        return [*candidates[start:], *candidates[:start]]
