"""Dominated models: never worth routing to, so they are dropped from the candidates at train time.

Model ``a`` is dominated on a table when another model ``b`` is both better and cheaper there: a
strictly higher mean score *and* a strictly lower mean cost ("worse and dearer"). Whatever the cost
weight, ``b`` is then the better call on average, so a router that keeps ``a`` could only gain from
it by betting on per-prompt noise. A model that merely ties on cost (or on quality) is kept: on the
9-model table, dropping the same-priced but weaker of two 50B models as well would cut the
task-level ceiling of routing from 22% to 7% of the best-single-to-oracle gap, because that model
is the best one on math, MBPP and natural questions.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from routeiq_core.routing.learned.data import RoutingTable

FloatArray = npt.NDArray[np.float64]


def dominated_models(scores: FloatArray, costs: FloatArray, *, tolerance: float = 1e-12) -> tuple[int, ...]:
    """Column indices of the dominated models of a ``(n, m)`` score and cost table.

    Args:
        scores: Per-prompt quality per model.
        costs: Per-prompt cost per model.
        tolerance: Mean differences this small count as equal (relative for costs above 1).
    """
    quality, cost = scores.mean(axis=0), costs.mean(axis=0)
    out = []
    for a in range(len(quality)):
        better = quality > quality[a] + tolerance
        cheaper = cost < cost[a] - tolerance * max(1.0, abs(float(cost[a])))
        if np.any(better & cheaper):
            out.append(a)
    return tuple(out)


def keep_columns(table: RoutingTable, columns: tuple[int, ...]) -> RoutingTable:
    """``table`` with only the model ``columns`` (in that order)."""
    idx = list(columns)
    return RoutingTable(
        ids=table.ids,
        prompts=table.prompts,
        tasks=table.tasks,
        models=tuple(table.models[i] for i in idx),
        scores=table.scores[:, idx],
        costs=table.costs[:, idx],
    )


def drop_dominated(table: RoutingTable) -> tuple[RoutingTable, tuple[str, ...]]:
    """``table`` without its dominated models, and the names of the models dropped."""
    dropped = dominated_models(table.scores, table.costs)
    if not dropped:
        return table, ()
    kept = tuple(i for i in range(len(table.models)) if i not in dropped)
    return keep_columns(table, kept), tuple(table.models[i] for i in dropped)


def expand_predictions(predicted: FloatArray, kept: tuple[str, ...], models: tuple[str, ...]) -> FloatArray:
    """Predictions over ``kept`` models widened to ``models``; dropped columns get ``-inf`` (never chosen)."""
    out = np.full((len(predicted), len(models)), -np.inf)
    for j, name in enumerate(kept):
        out[:, models.index(name)] = predicted[:, j]
    return out
