"""The canary's sequential test: promote, roll back, or keep watching, from scored calls of both arms.

Each arm's mean quality (scores in [0, 1]) has an anytime-valid confidence sequence: with ``n``
scores, ``|mean - true mean| <= sqrt(log(pi^2 n^2 / (3 a)) / (2 n))`` holds for every ``n`` at once
with probability ``1 - a`` (Hoeffding's inequality and a union bound over ``n``), so the test may look
after every new score without inflating its error. Each arm gets ``alpha / 2``; the difference of
the means is bounded by the sum of the two radii.

- **promote** when the candidate is, with confidence, no worse than the incumbent by more than
  ``margin`` and costs at most ``cost_tolerance`` more per call;
- **rollback** when it is, with confidence, worse by more than ``margin``; or dearer than the
  tolerance (once both arms have ``min_samples``); or undecided after ``max_samples``;
- **continue** otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import msgspec

from routeiq_core.routing.learned.artifact_registry import Canary

Decision = Literal["promote", "rollback", "continue"]


class ArmStats(msgspec.Struct, frozen=True, kw_only=True):
    """One arm's scored calls: how many, their mean quality and mean cost, the confidence radius."""

    n: int
    quality: float
    cost: float
    radius: float


class CanaryVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """The test's decision, why, and the statistics it was made on.

    Attributes:
        decision: ``promote``, ``rollback`` or ``continue``.
        reason: A sentence for the log, the audit entry and the promotion record.
        candidate: The candidate's statistics.
        incumbent: The incumbent's statistics.
        difference: Candidate minus incumbent mean quality.
        low: The lower confidence bound of the difference.
        high: The upper confidence bound of the difference.
    """

    decision: Decision
    reason: str
    candidate: ArmStats
    incumbent: ArmStats
    difference: float
    low: float
    high: float


def confidence_radius(n: int, alpha: float) -> float:
    """The anytime-valid Hoeffding radius of a mean of ``n`` scores in [0, 1] (inf for ``n == 0``)."""
    if n <= 0:
        return math.inf
    return math.sqrt(math.log(math.pi**2 * n * n / (3.0 * alpha)) / (2.0 * n))


def arm_stats(scores: Sequence[float], costs: Sequence[float], alpha: float) -> ArmStats:
    """The statistics of one arm (``alpha``: this arm's share of the error rate)."""
    n = len(scores)
    return ArmStats(
        n=n,
        quality=sum(scores) / n if n else 0.0,
        cost=sum(costs) / len(costs) if costs else 0.0,
        radius=confidence_radius(n, alpha),
    )


def verdict(
    canary: Canary,
    candidate: tuple[Sequence[float], Sequence[float]],
    incumbent: tuple[Sequence[float], Sequence[float]],
) -> CanaryVerdict:
    """Decide a canary from each arm's ``(scores, costs)``."""
    cand = arm_stats(*candidate, canary.alpha / 2)
    inc = arm_stats(*incumbent, canary.alpha / 2)
    difference = cand.quality - inc.quality
    low, high = difference - cand.radius - inc.radius, difference + cand.radius + inc.radius

    def decide(decision: Decision, reason: str) -> CanaryVerdict:
        return CanaryVerdict(
            decision=decision,
            reason=reason,
            candidate=cand,
            incumbent=inc,
            difference=difference,
            low=low,
            high=high,
        )

    if cand.n >= canary.max_samples:
        return decide("rollback", f"undecided after {cand.n} scored calls: keeping the incumbent")
    if min(cand.n, inc.n) < canary.min_samples:
        return decide("continue", f"waiting for {canary.min_samples} scored calls on each arm")
    dearer = cand.cost > inc.cost * (1.0 + canary.cost_tolerance) + 1e-12
    quality = f"quality {cand.quality:.3f} vs {inc.quality:.3f} (difference in [{low:.3f}, {high:.3f}])"
    if dearer:
        return decide(
            "rollback",
            f"costs {cand.cost:.6f} per call vs {inc.cost:.6f}, beyond the {canary.cost_tolerance:.0%} "
            f"tolerance; {quality}",
        )
    if high < -canary.margin:
        return decide("rollback", f"worse than the incumbent by more than {canary.margin}: {quality}")
    if low > -canary.margin:
        return decide("promote", f"no worse than the incumbent by more than {canary.margin}: {quality}")
    return decide("continue", f"not decided yet: {quality}")
