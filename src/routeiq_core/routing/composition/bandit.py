"""A multi-armed bandit over strategies: learn from outcomes which one routes best."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Literal

import cachetools
import msgspec

from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.errors import ConfigurationError
from routeiq_core.routing.strategy import DeploymentStrategy, RouteContext

BanditPolicy = Literal["thompson", "epsilon-greedy"]


class BanditArmStats(msgspec.Struct, frozen=True, kw_only=True):
    """The posterior and counters of one strategy in a bandit."""

    pulls: int
    alpha: float
    beta: float
    mean_reward: float
    latency_ewma_s: float | None


class _Posterior:
    __slots__ = ("alpha", "beta", "latency", "pulls")

    def __init__(self) -> None:
        self.alpha = 1.0
        self.beta = 1.0
        self.pulls = 0
        self.latency: float | None = None

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)


class StrategyBandit:
    """Chooses a strategy per request, favouring the one whose requests succeed (and are fast).

    Each strategy has a Beta posterior over its reward, starting uniform. A successful outcome
    earns reward 1, or ``latency_target_s / latency_s`` when it was slower than the target; a failure
    earns 0. The reward is folded in as ``alpha += r, beta += 1 - r``. With ``quality_weight > 0``, a
    quality score in [0, 1] reported later for the request (the evaluator plugin's) is folded in too,
    as ``alpha += w * q, beta += w * (1 - q)``: strategies whose answers score better win more.

    Policies:
        ``thompson``: draw from every posterior, route with the highest draw (explores in proportion
            to uncertainty).
        ``epsilon-greedy``: with probability ``epsilon`` a uniformly random strategy, otherwise the
            highest posterior mean (ties at random).

    Args:
        strategies: The arms; names unique.
        rng: Seeded random generator (draws, exploration, ties).
        policy: ``thompson`` or ``epsilon-greedy``.
        epsilon: Exploration rate of ``epsilon-greedy``.
        latency_target_s: Latency under which a success earns the full reward; None ignores latency.
        quality_weight: Weight of a reported quality score against one outcome (0: scores ignored).
        name: Reported as the strategy name.
        remember: How many recent request ids to remember the chosen strategy of.

    Raises:
        ConfigurationError: No strategy, duplicate names, an unknown policy or an epsilon outside
            [0, 1].
    """

    def __init__(
        self,
        strategies: Sequence[DeploymentStrategy],
        *,
        rng: random.Random,
        policy: BanditPolicy = "thompson",
        epsilon: float = 0.1,
        latency_target_s: float | None = None,
        quality_weight: float = 0.0,
        name: str = "bandit",
        remember: int = 10_000,
    ) -> None:
        names = [s.name for s in strategies]
        problems = []
        if not strategies:
            problems.append(f"bandit {name!r}: needs at least one strategy")
        if len(set(names)) != len(names):
            problems.append(f"bandit {name!r}: strategy names must be unique, got {', '.join(names)}")
        if policy not in ("thompson", "epsilon-greedy"):
            problems.append(f"bandit {name!r}: policy must be 'thompson' or 'epsilon-greedy', got {policy!r}")
        if not 0.0 <= epsilon <= 1.0:
            problems.append(f"bandit {name!r}: epsilon must be within [0, 1], got {epsilon}")
        if quality_weight < 0:
            problems.append(f"bandit {name!r}: quality_weight must be >= 0, got {quality_weight}")
        if problems:
            raise ConfigurationError(problems)
        self.name = name
        self._strategies = {s.name: s for s in strategies}
        self._posteriors = {n: _Posterior() for n in names}
        self._rng = rng
        self._policy = policy
        self._epsilon = epsilon
        self._latency_target_s = latency_target_s
        self._quality_weight = quality_weight
        self.quality_reports = 0
        self._by_request: cachetools.LRUCache[str, str] = cachetools.LRUCache(maxsize=remember)

    def choose(self) -> DeploymentStrategy:
        """The strategy the policy picks now (does not count a pull)."""
        names = list(self._posteriors)
        if self._policy == "epsilon-greedy":
            if self._rng.random() < self._epsilon:
                return self._strategies[self._rng.choice(names)]
            scores = {n: self._posteriors[n].mean for n in names}
        else:
            scores = {n: self._rng.betavariate(p.alpha, p.beta) for n, p in self._posteriors.items()}
        best = max(scores.values())
        return self._strategies[self._rng.choice([n for n in names if scores[n] == best])]

    def order(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> list[Deployment]:
        """The order of the strategy chosen for this request."""
        return self.explain(group, candidates, context)[0]

    def explain(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> tuple[list[Deployment], list[str]]:
        """Route like :meth:`order` and say which strategy the bandit chose."""
        strategy = self.choose()
        self._posteriors[strategy.name].pulls += 1
        if context.request_id is not None:
            self._by_request[context.request_id] = strategy.name
        ordered = strategy.order(group, candidates, context)
        return ordered, [f"bandit:{self.name} ({self._policy}) chose {strategy.name}"]

    def strategy_for_request(self, request_id: str) -> str | None:
        """The strategy a recent request was routed with, if still remembered."""
        return self._by_request.get(request_id)

    def on_outcome(self, context: RouteContext, ok: bool, latency_s: float | None = None) -> None:
        """The gateway's report of an attempt: folded into the posterior of the strategy that routed it."""
        name = self.strategy_for_request(context.request_id) if context.request_id else None
        if name is not None:
            self.record_outcome(name, ok, latency_s)

    def on_quality(self, request_id: str, score: float) -> None:
        """A quality score in [0, 1] for a routed request (the evaluator's), when ``quality_weight > 0``.

        Unknown or forgotten request ids are ignored; scores outside [0, 1] are clipped.
        """
        name = self.strategy_for_request(request_id)
        if name is None or self._quality_weight <= 0:
            return
        quality = min(max(score, 0.0), 1.0)
        posterior = self._posteriors[name]
        posterior.alpha += self._quality_weight * quality
        posterior.beta += self._quality_weight * (1.0 - quality)
        self.quality_reports += 1

    def record_outcome(self, strategy_name: str, ok: bool, latency_s: float | None = None) -> None:
        """Fold in the outcome of a request routed by ``strategy_name``.

        Args:
            strategy_name: The strategy that routed the request.
            ok: Whether the request succeeded.
            latency_s: Its latency, scoring slow successes lower when a latency target is set.

        Raises:
            KeyError: ``strategy_name`` is not an arm of this bandit.
        """
        posterior = self._posteriors.get(strategy_name)
        if posterior is None:
            raise KeyError(
                f"bandit {self.name!r} has no strategy {strategy_name!r}; arms: {', '.join(self._posteriors)}"
            )
        reward = 1.0 if ok else 0.0
        target = self._latency_target_s
        if ok and target is not None and latency_s is not None and latency_s > target:
            reward = target / latency_s
        posterior.alpha += reward
        posterior.beta += 1.0 - reward
        if latency_s is not None:
            posterior.latency = (
                latency_s if posterior.latency is None else 0.8 * posterior.latency + 0.2 * latency_s
            )

    def stats(self) -> dict[str, BanditArmStats]:
        """Posterior and counters per strategy name."""
        return {
            n: BanditArmStats(
                pulls=p.pulls, alpha=p.alpha, beta=p.beta, mean_reward=p.mean, latency_ewma_s=p.latency
            )
            for n, p in self._posteriors.items()
        }
