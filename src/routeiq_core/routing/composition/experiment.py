"""A/B experiments: split traffic between strategies by weight, sticky per user or key."""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
from collections.abc import Callable, Sequence

import cachetools
import msgspec

from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.errors import ConfigurationError
from routeiq_core.routing.strategy import DeploymentStrategy, RouteContext

ExperimentKey = Callable[[RouteContext], str | None]
"""Extracts the assignment key (a user id, an API key id) from a request; None: not sticky."""


class Arm(msgspec.Struct, frozen=True, kw_only=True):
    """One variant of an experiment: a strategy and its share of the traffic."""

    name: str
    strategy: DeploymentStrategy
    weight: float = 1.0


class ArmStats(msgspec.Struct, frozen=True, kw_only=True):
    """What happened on one arm so far."""

    assignments: int = 0
    successes: int = 0
    failures: int = 0


class _Counts:
    __slots__ = ("assignments", "failures", "successes")

    def __init__(self) -> None:
        self.assignments = self.successes = self.failures = 0


class Experiment:
    """Routes each request with one of several strategies, chosen by weight and kept per key.

    The arm is chosen by a stable hash (SHA-256, not Python's per-process salted ``hash``) of the
    experiment name and the request's key, so a user sees the same arm on every worker and after a
    restart, and two experiments split users independently. Requests without a key get a random arm
    by weight. Arms count assignments, and outcomes reported through :meth:`record_outcome`; the
    arm of a recent request can be looked up by request id with :meth:`arm_for_request`.

    Args:
        name: The experiment's name (part of the hash: renaming reshuffles users).
        arms: The variants; names unique, weights positive.
        key: Extracts the assignment key from a request.
        rng: Random generator for requests without a key.
        remember: How many recent request ids to remember the arm of.

    Raises:
        ConfigurationError: No arm, duplicate arm names, or a weight that is not positive.
    """

    def __init__(
        self,
        name: str,
        arms: Sequence[Arm],
        *,
        key: ExperimentKey,
        rng: random.Random,
        remember: int = 10_000,
    ) -> None:
        _check_arms(name, arms)
        self.name = name
        self._arms = tuple(arms)
        self._key = key
        self._rng = rng
        total = sum(a.weight for a in self._arms)
        self._cumulative = tuple(w / total for w in itertools.accumulate(a.weight for a in self._arms))
        self._counts = {a.name: _Counts() for a in self._arms}
        self._by_request: cachetools.LRUCache[str, str] = cachetools.LRUCache(maxsize=remember)

    @property
    def arms(self) -> tuple[Arm, ...]:
        """The variants, in configuration order."""
        return self._arms

    def assign(self, context: RouteContext) -> Arm:
        """The arm for this request (sticky for a keyed request); does not count an assignment."""
        key = self._key(context)
        point = self._rng.random() if key is None else self.bucket(key)
        index = bisect.bisect_right(self._cumulative, point)
        return self._arms[min(index, len(self._arms) - 1)]

    def bucket(self, key: str) -> float:
        """Where ``key`` falls in [0, 1): stable across processes and releases."""
        digest = hashlib.sha256(f"{self.name}\x1f{key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def order(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> list[Deployment]:
        """The order of the arm this request is assigned to (counted as one assignment)."""
        return self.explain(group, candidates, context)[0]

    def explain(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> tuple[list[Deployment], list[str]]:
        """Route like :meth:`order` and say which arm was used."""
        arm = self.assign(context)
        self._counts[arm.name].assignments += 1
        if context.request_id is not None:
            self._by_request[context.request_id] = arm.name
        ordered = arm.strategy.order(group, candidates, context)
        return ordered, [f"experiment:{self.name} arm={arm.name} strategy={arm.strategy.name}"]

    def arm_for_request(self, request_id: str) -> str | None:
        """The arm a recent request was routed with, if still remembered."""
        return self._by_request.get(request_id)

    def on_outcome(self, context: RouteContext, ok: bool, latency_s: float | None = None) -> None:
        """The gateway's report of an attempt: counted for the arm that routed the request."""
        arm = self.arm_for_request(context.request_id) if context.request_id else None
        if arm is not None:
            self.record_outcome(arm, ok)

    def record_outcome(self, arm: str, ok: bool) -> None:
        """Count the outcome of a request routed by ``arm``.

        Raises:
            KeyError: ``arm`` is not an arm of this experiment.
        """
        counts = self._counts.get(arm)
        if counts is None:
            raise KeyError(f"experiment {self.name!r} has no arm {arm!r}; arms: {', '.join(self._counts)}")
        if ok:
            counts.successes += 1
        else:
            counts.failures += 1

    def stats(self) -> dict[str, ArmStats]:
        """Counters per arm name."""
        return {
            name: ArmStats(assignments=c.assignments, successes=c.successes, failures=c.failures)
            for name, c in self._counts.items()
        }


def _check_arms(name: str, arms: Sequence[Arm]) -> None:
    problems = []
    if not arms:
        problems.append(f"experiment {name!r}: needs at least one arm")
    names = [a.name for a in arms]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"experiment {name!r}: arm names must be unique, repeated: {', '.join(duplicates)}")
    problems.extend(
        f"experiment {name!r}: arm {a.name!r} has weight {a.weight}; weights must be positive"
        for a in arms
        if not a.weight > 0
    )
    if problems:
        raise ConfigurationError(problems)
