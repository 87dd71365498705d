"""The deployment-strategy port: order a model group's candidates for one request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec

from routeiq_core.catalog import Deployment, ModelGroup


class RouteContext(msgspec.Struct, frozen=True, kw_only=True):
    """What a strategy may know about the request it routes."""

    request_id: str | None = None
    estimated_prompt_tokens: int = 0
    tags: tuple[str, ...] = ()
    conversation_id: str | None = None
    user: str | None = None
    key_id: str | None = None


class DeploymentStrategy(Protocol):
    """Chooses which deployment of a model group serves a request.

    ``order`` returns the candidates best-first; the gateway tries them in that order, skipping
    deployments whose circuit breaker is open, and moves on after a failure.
    """

    name: str

    def order(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> list[Deployment]:
        """Return ``candidates`` in the order to try them."""
        ...
