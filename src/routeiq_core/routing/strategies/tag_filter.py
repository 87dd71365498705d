"""Tag filter: only deployments carrying every tag the request asks for, ordered by an inner strategy."""

from __future__ import annotations

from collections.abc import Sequence

from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.routing.strategy import DeploymentStrategy, RouteContext


class TagFilter:
    """Keeps the candidates whose tags include all of ``context.tags``, then delegates the order.

    A request without tags keeps every candidate. When no candidate carries all the requested tags
    the result is empty on purpose: the gateway then moves to the group's fallbacks, and answers
    with a clear error when none is left, rather than quietly serving the request from a deployment
    the caller excluded (for example one outside the region or tier the tags select).

    Args:
        inner: Orders the deployments that pass the filter.
    """

    def __init__(self, inner: DeploymentStrategy) -> None:
        self._inner = inner
        self.name = f"tag-filter({inner.name})"

    @property
    def inner(self) -> DeploymentStrategy:
        """The strategy that orders the matching deployments."""
        return self._inner

    def order(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> list[Deployment]:
        """The candidates carrying every requested tag, in the inner strategy's order; maybe none."""
        if not context.tags:
            return self._inner.order(group, candidates, context)
        wanted = frozenset(context.tags)
        matching = [d for d in candidates if wanted.issubset(d.tags)]
        if not matching:
            return []
        return self._inner.order(group, matching, context)
