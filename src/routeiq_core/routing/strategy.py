"""The deployment-strategy port: order a model group's candidates for one request.

A strategy only has to ``order``. What some strategies can do besides is declared as its own small
Protocol — reading shared state before routing (:class:`PreparesRoute`), learning which deployment
served (:class:`LearnsServed`), learning from every attempt's outcome (:class:`LearnsOutcomes`) or
from quality scores (:class:`LearnsQuality`) — and checked once, when the gateway is wired, never
probed per request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from routeiq_core.catalog import Deployment, ModelGroup


class RouteContext(Protocol):
    """What a strategy may read of the request it routes (a view of the call's context).

    :class:`routeiq_core.context.CallContext` is the gateway's implementation; build one with only
    the fields you need to route outside the gateway, e.g. ``CallContext(tags=("eu",))``.
    """

    @property
    def request_id(self) -> str | None:
        """The request's id (experiments and bandits remember their choice by it)."""
        ...

    @property
    def estimated_prompt_tokens(self) -> int:
        """A cheap estimate of the prompt's tokens (context-window filters)."""
        ...

    @property
    def tags(self) -> tuple[str, ...]:
        """Routing tags of the request."""
        ...

    @property
    def conversation_id(self) -> str | None:
        """The conversation the request belongs to (affinity)."""
        ...

    @property
    def user(self) -> str | None:
        """The end user the client names."""
        ...

    @property
    def key_id(self) -> str | None:
        """The caller's key id."""
        ...


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


@runtime_checkable
class PreparesRoute(Protocol):
    """A strategy that reads shared state (affinity pins across workers) before ``order``."""

    async def prepare(self, group: ModelGroup, context: RouteContext) -> None:
        """Fetch what ``order`` will need for this request; bounded and never raising."""
        ...


@runtime_checkable
class LearnsServed(Protocol):
    """A strategy that learns which deployment finally served a request (affinity pins)."""

    async def on_routed(self, group: ModelGroup, context: RouteContext, deployment_id: str) -> None:
        """``deployment_id`` answered the request."""
        ...


@runtime_checkable
class LearnsOutcomes(Protocol):
    """A strategy that learns from every attempt's outcome (experiments, bandits)."""

    def on_outcome(self, context: RouteContext, ok: bool, latency_s: float | None = None) -> None:
        """One attempt of the request succeeded (with its latency) or failed."""
        ...


@runtime_checkable
class LearnsQuality(Protocol):
    """A strategy that learns from quality scores of answers (a bandit with ``quality_weight``)."""

    def on_quality(self, request_id: str, score: float) -> None:
        """The answer to ``request_id`` scored ``score`` in [0, 1]."""
        ...
