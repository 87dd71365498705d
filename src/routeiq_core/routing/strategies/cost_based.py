"""Cost based: the cheapest deployment for this request first."""

from __future__ import annotations

import random
from collections.abc import Sequence

from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.routing.strategies._ties import weighted_tiebreak
from routeiq_core.routing.strategy import RouteContext


class CostBased:
    """Orders candidates by what the request is expected to cost on each.

    The cost is ``Deployment.cost(estimated_prompt_tokens, expected_completion_tokens)``: the
    prompt estimate comes from the request, the completion length from the constructor (the
    answer's length is unknown before the call). Deployments of equal cost are ordered by a
    weighted random draw, so they share the traffic in proportion to their weights.

    Args:
        rng: Random generator for breaking ties.
        expected_completion_tokens: Completion length assumed when pricing a request.
    """

    name = "cost-based"

    def __init__(self, rng: random.Random, expected_completion_tokens: int = 256) -> None:
        self._rng = rng
        self._completion_tokens = expected_completion_tokens

    def order(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> list[Deployment]:
        """``candidates`` cheapest first; equal prices by weighted random draw."""
        if len(candidates) <= 1:
            return list(candidates)
        prompt = context.estimated_prompt_tokens
        keyed = [
            ((d.cost(prompt, self._completion_tokens), weighted_tiebreak(self._rng, d.weight)), d)
            for d in candidates
        ]
        keyed.sort(key=lambda pair: pair[0])
        return [d for _, d in keyed]
