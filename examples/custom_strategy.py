"""An example custom deployment strategy: the cheapest deployment that is currently healthy.

Point the gateway at it by dotted path (the module must be importable, e.g. on PYTHONPATH)::

    routing:
      strategy: "custom_strategy:CheapestHealthy"

or ship it in a package with an entry point, and use the entry point's name::

    [project.entry-points."routeiq.strategies"]
    cheapest-healthy = "my_package.custom_strategy:CheapestHealthy"

A strategy needs a ``name`` string and an ``order(group, candidates, context)`` method returning
the candidates best-first. Its constructor may ask for ``rng`` (the routing random generator) and
``stats`` (the live per-deployment statistics the gateway feeds); it is given nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence

from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.context import CallContext
from routeiq_core.routing.stats import DeploymentStats
from routeiq_core.routing.strategy import RouteContext


class CheapestHealthy:
    """Cheapest first among deployments whose recent error rate is acceptable; the rest after them."""

    name = "cheapest-healthy"

    def __init__(self, stats: DeploymentStats, max_error_rate: float = 0.2) -> None:
        self._stats = stats
        self._max_error_rate = max_error_rate

    def order(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> list[Deployment]:
        tokens = context.estimated_prompt_tokens

        def key(d: Deployment) -> tuple[bool, float]:
            unhealthy = self._stats.snapshot(d.id).error_rate > self._max_error_rate
            return unhealthy, d.cost(tokens, 256)

        return sorted(candidates, key=key)


if __name__ == "__main__":
    import random

    from routeiq_core.routing.strategies import build_strategy

    def _deployment(n: int, price: float) -> Deployment:
        return Deployment(
            id=f"d{n}", model_group="g", adapter="mock", upstream_model="m", input_price_per_mtok=price
        )

    stats = DeploymentStats()
    deployments = (_deployment(1, 3.0), _deployment(2, 0.5), _deployment(3, 1.0))
    for _ in range(5):
        stats.observe("d2", 0.2, ok=False)  # the cheapest one keeps failing
    strategy = build_strategy("custom_strategy:CheapestHealthy", rng=random.Random(0), stats=stats)
    group = ModelGroup(name="g", deployments=deployments)
    ordered = strategy.order(group, deployments, CallContext(estimated_prompt_tokens=1000))
    print(strategy.name, [d.id for d in ordered])  # cheapest-healthy ['d3', 'd1', 'd2']
