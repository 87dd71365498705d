"""Usage based: the deployment with the most RPM/TPM headroom in the last minute first."""

from __future__ import annotations

import random
from collections.abc import Sequence

from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.routing.stats import DeploymentStats
from routeiq_core.routing.strategies._ties import weighted_tiebreak
from routeiq_core.routing.strategy import RouteContext


class UsageBased:
    """Orders candidates by the share of their rate limits still free in the sliding minute.

    Headroom is the smaller of ``1 - requests/rpm`` and ``1 - (tokens + prompt)/tpm``, where
    ``prompt`` is the request's estimated prompt tokens; a limit that is not configured leaves full
    headroom. Using the free share rather than the absolute remainder keeps every deployment at a
    similar utilisation, so traffic follows capacity. Deployments at or over a limit (no request
    left this minute, or the prompt would overflow the token budget) go last, least over first.
    Ties are broken by a weighted random draw.
    """

    name = "usage-based"

    def __init__(self, stats: DeploymentStats, rng: random.Random) -> None:
        self._stats = stats
        self._rng = rng

    def order(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> list[Deployment]:
        """``candidates`` with headroom first (most first), limited ones last."""
        if len(candidates) <= 1:
            return list(candidates)
        keyed = []
        for d in candidates:
            limited, headroom = self.headroom(d, context.estimated_prompt_tokens)
            keyed.append(((limited, -headroom, weighted_tiebreak(self._rng, d.weight)), d))
        keyed.sort(key=lambda pair: pair[0])
        return [d for _, d in keyed]

    def headroom(self, deployment: Deployment, prompt_tokens: int = 0) -> tuple[bool, float]:
        """Whether the deployment is at/over a limit, and its free share of the tightest limit.

        Args:
            deployment: The deployment to assess.
            prompt_tokens: Tokens the request about to be routed is expected to add.
        """
        requests, tokens = self._stats.usage_last_minute(deployment.id)
        limited = False
        headroom = 1.0
        if deployment.rpm is not None:
            limited = requests >= deployment.rpm
            headroom = 1.0 - requests / deployment.rpm if deployment.rpm > 0 else 0.0
        if deployment.tpm is not None:
            wanted = tokens + prompt_tokens
            limited = limited or tokens >= deployment.tpm or wanted > deployment.tpm
            tpm_free = 1.0 - wanted / deployment.tpm if deployment.tpm > 0 else 0.0
            headroom = min(headroom, tpm_free)
        return limited, headroom
