"""Pipelines: routing as a sequence of explainable stages (filters, a strategy, affinity)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.routing.strategy import (
    DeploymentStrategy,
    LearnsOutcomes,
    LearnsQuality,
    PreparesRoute,
    RouteContext,
)


class Stage(Protocol):
    """One step of a :class:`Pipeline`: filters and/or reorders the candidates and says why."""

    def apply(
        self, group: ModelGroup, candidates: list[Deployment], context: RouteContext
    ) -> tuple[list[Deployment], str]:
        """Return the (possibly filtered or reordered) candidates and the reason for the result."""
        ...


@runtime_checkable
class CommitsServed(Protocol):
    """A stage that learns which deployment served the request (affinity pins it)."""

    async def commit(self, group: ModelGroup, context: RouteContext, deployment_id: str) -> None:
        """``deployment_id`` answered the request."""
        ...


@runtime_checkable
class Explains(Protocol):
    """A strategy that can say why it ordered the candidates as it did."""

    name: str

    def explain(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> tuple[list[Deployment], list[str]]:
        """Route like ``order`` and also return the reasons."""
        ...


class Pipeline:
    """Routes through ordered stages and records each stage's reason.

    A typical pipeline filters (context window, health), orders with a strategy, then applies
    affinity so a pinned deployment comes first. When a stage leaves no candidate, the list as it was
    before that stage is ordered by ``fallback`` and returned; without a fallback the pipeline
    returns no candidate (the gateway then moves to the group's fallbacks).

    A pipeline is itself a ``DeploymentStrategy`` (use :meth:`order`), and :meth:`explain` returns
    the reasons too, for debugging headers and the admin API.

    Args:
        stages: Applied in order.
        fallback: Orders the candidates when a stage would leave none.
        name: Reported as the strategy name.
    """

    def __init__(
        self, stages: Sequence[Stage], *, fallback: DeploymentStrategy | None = None, name: str = "pipeline"
    ) -> None:
        self._stages = tuple(stages)
        self._fallback = fallback
        self.name = name
        # Which stages can do more than apply, checked once here rather than on every request.
        self._learners = tuple(s for s in self._stages if isinstance(s, LearnsOutcomes))
        self._judged = tuple(s for s in self._stages if isinstance(s, LearnsQuality))
        self._preparers = tuple(s for s in self._stages if isinstance(s, PreparesRoute))
        self._committers = tuple(s for s in self._stages if isinstance(s, CommitsServed))

    def order(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> list[Deployment]:
        """The candidates after every stage, best first."""
        return self.explain(group, candidates, context)[0]

    def on_outcome(self, context: RouteContext, ok: bool, latency_s: float | None = None) -> None:
        """Forward an attempt's outcome to stages that learn from outcomes (experiments, bandits)."""
        for stage in self._learners:
            stage.on_outcome(context, ok, latency_s)

    def on_quality(self, request_id: str, score: float) -> None:
        """Forward a quality score (the evaluator's) to stages that learn from it (bandits)."""
        for stage in self._judged:
            stage.on_quality(request_id, score)

    async def prepare(self, group: ModelGroup, context: RouteContext) -> None:
        """Before :meth:`order`: stages that read shared state (affinity across workers) fetch it."""
        for stage in self._preparers:
            await stage.prepare(group, context)

    async def on_routed(self, group: ModelGroup, context: RouteContext, deployment_id: str) -> None:
        """The gateway served the request with ``deployment_id``: stages that pin (affinity) learn it."""
        for stage in self._committers:
            await stage.commit(group, context, deployment_id)

    def explain(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> tuple[list[Deployment], list[str]]:
        """The order :meth:`order` returns, and one reason per stage that ran."""
        current = list(candidates)
        reasons: list[str] = []
        if not current:
            return [], ["no candidates"]
        for stage in self._stages:
            result, reason = stage.apply(group, current, context)
            reasons.append(reason)
            if not result:
                if self._fallback is None:
                    reasons.append("no candidates left and no fallback strategy")
                    return [], reasons
                reasons.append(f"fallback:{self._fallback.name} (the stage left no candidates)")
                return self._fallback.order(group, current, context), reasons
            current = result
        return current, reasons


class ContextWindowFilter:
    """Drops deployments whose context window is smaller than the request's estimated prompt."""

    def apply(
        self, group: ModelGroup, candidates: list[Deployment], context: RouteContext
    ) -> tuple[list[Deployment], str]:
        """Keep the deployments that fit (an unknown window is assumed to fit)."""
        tokens = context.estimated_prompt_tokens
        kept: list[Deployment] = []
        dropped: list[str] = []
        for d in candidates:
            if d.max_context_tokens is None or tokens <= d.max_context_tokens:
                kept.append(d)
            else:
                dropped.append(f"{d.id} ({_tokens(d.max_context_tokens)} < {_tokens(tokens)} tokens)")
        return kept, _filter_reason("context-window", dropped, len(kept))


class HealthFilter:
    """Drops deployments a predicate calls unhealthy.

    The gateway passes its circuit breakers, e.g.
    ``HealthFilter(lambda d: breakers.get(d.id).available())``.

    Args:
        healthy: True when the deployment may take traffic now.
    """

    def __init__(self, healthy: Callable[[Deployment], bool]) -> None:
        self._healthy = healthy

    def apply(
        self, group: ModelGroup, candidates: list[Deployment], context: RouteContext
    ) -> tuple[list[Deployment], str]:
        """Keep the healthy deployments."""
        kept: list[Deployment] = []
        dropped: list[str] = []
        for d in candidates:
            if self._healthy(d):
                kept.append(d)
            else:
                dropped.append(d.id)
        return kept, _filter_reason("health", dropped, len(kept))


class StrategyStage:
    """Orders the candidates with a deployment strategy.

    When the strategy can explain itself (a nested pipeline, an experiment, a bandit), its reasons
    are included.
    """

    def __init__(self, strategy: DeploymentStrategy) -> None:
        self._strategy = strategy
        self._learner = strategy if isinstance(strategy, LearnsOutcomes) else None
        self._judged = strategy if isinstance(strategy, LearnsQuality) else None

    def on_outcome(self, context: RouteContext, ok: bool, latency_s: float | None = None) -> None:
        """Forward an attempt's outcome to the strategy if it learns from outcomes."""
        if self._learner is not None:
            self._learner.on_outcome(context, ok, latency_s)

    def on_quality(self, request_id: str, score: float) -> None:
        """Forward a quality score to the strategy if it learns from quality (a bandit)."""
        if self._judged is not None:
            self._judged.on_quality(request_id, score)

    def apply(
        self, group: ModelGroup, candidates: list[Deployment], context: RouteContext
    ) -> tuple[list[Deployment], str]:
        """The strategy's order of the candidates."""
        reason = f"strategy:{self._strategy.name}"
        if isinstance(self._strategy, Explains):
            ordered, inner = self._strategy.explain(group, candidates, context)
            return ordered, f"{reason} [{'; '.join(inner)}]"
        return self._strategy.order(group, candidates, context), reason


def _filter_reason(kind: str, dropped: list[str], kept: int) -> str:
    if not dropped:
        return f"filter:{kind} kept all {kept}"
    return f"filter:{kind} dropped {', '.join(dropped)}"


def _tokens(n: int) -> str:
    if n < 1000:
        return str(n)
    return f"{n / 1000:.1f}".removesuffix(".0") + "k"
