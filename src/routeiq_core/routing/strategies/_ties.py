"""Random tie-breaking keys shared by the deterministic strategies."""

from __future__ import annotations

import math
import random


def weighted_tiebreak(rng: random.Random, weight: float) -> float:
    """A sort key (ascending) that orders equal-ranked deployments by a weighted random draw.

    Among ties, a deployment sorts first with probability proportional to its weight (the
    Efraimidis-Spirakis key ``u**(1/w)``, negated); zero or negative weights sort last.
    """
    if weight <= 0:
        return math.inf
    u = rng.random() or 1e-12
    return -math.log(u) / weight
