"""Bradley-Terry (Elo-style) router from pairwise wins per prompt.

On each training prompt every pair of models plays one "game": the higher score wins, equal scores
split the point. Bradley-Terry strengths ``pi`` are fitted by the MM algorithm (Hunter 2004) and the
predicted quality of model ``a`` is its expected win rate ``mean_b pi_a / (pi_a + pi_b)``.

Modes:
    ``global``: one ranking for every prompt (prompt independent).
    ``task``: one ranking per training task; prompts are assigned to the nearest task centroid.
    ``similarity``: one ranking per query from its ``k`` nearest training prompts, each game weighted
        by ``max(similarity, 0) ** power`` (RouteLLM's similarity-weighted ranking), regularised
        towards the global games with ``prior`` pseudo-games.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from routeiq_core.routing.learned.best_per_task import task_statistics
from routeiq_core.routing.learned.evaluate import routing_score
from routeiq_core.routing.learned.router import FloatArray, TrainingData, as_matrix
from routeiq_core.routing.learned.vector_index import IndexFactory, VectorIndex, numpy_index_factory

MODES = ("global", "task", "similarity")
_ITERATIONS = 60
_BLOCK = 256


def pairwise_wins(scores: FloatArray) -> FloatArray:
    """``(n, m, m)`` games: ``[i, a, b]`` is 1 if ``a`` beat ``b`` on prompt ``i``, 0.5 on a tie, else 0."""
    diff = scores[:, :, None] - scores[:, None, :]
    wins = (diff > 0) + 0.5 * (diff == 0)
    m = scores.shape[1]
    return np.asarray(wins * (1.0 - np.eye(m)), dtype=np.float64)


def bradley_terry(wins: FloatArray, iterations: int = _ITERATIONS) -> FloatArray:
    """Strengths ``(..., m)`` from win matrices ``(..., m, m)`` by the MM algorithm (geometric mean 1)."""
    games = wins + np.swapaxes(wins, -1, -2)
    won = wins.sum(axis=-1) + 1e-9
    pi = np.ones(wins.shape[:-1])
    for _ in range(iterations):
        denom = (games / (pi[..., :, None] + pi[..., None, :])).sum(axis=-1) + 1e-12
        pi = won / denom
        pi = pi / np.exp(np.log(pi).mean(axis=-1, keepdims=True))
    return pi


def win_rates(strengths: FloatArray) -> FloatArray:
    """Expected win rate of each model against the others, ``(n, m)``."""
    m = strengths.shape[-1]
    p = strengths[..., :, None] / (strengths[..., :, None] + strengths[..., None, :])
    return np.asarray((p.sum(axis=-1) - 0.5) / max(m - 1, 1), dtype=np.float64)


class EloRouter:
    """Bradley-Terry rankings, global, per task or per query neighbourhood (see the module docstring).

    Args:
        models: Model names.
        mode: ``global``, ``task`` or ``similarity``.
        centroids: ``(t, dim)`` task centroids (one row in ``global`` mode; unused for ``similarity``).
        strengths: ``(t, m)`` strengths per centroid (row 0 is global in ``similarity`` mode).
        exemplars: Training embeddings (``similarity`` mode).
        scores: Training scores (``similarity`` mode).
        k: Neighbours per query (``similarity`` mode).
        power: Similarity exponent (``similarity`` mode).
        prior: Weight of the global games, in units of one neighbour game (``similarity`` mode).
        index_factory: Builds the vector index for ``similarity`` mode.
        index: An already-filled index over ``exemplars``.
    """

    kind = "elo"

    def __init__(
        self,
        *,
        models: tuple[str, ...],
        mode: str,
        centroids: npt.NDArray[np.float32],
        strengths: FloatArray,
        exemplars: npt.NDArray[np.float32] | None = None,
        scores: FloatArray | None = None,
        k: int = 100,
        power: float = 4.0,
        prior: float = 1.0,
        index_factory: IndexFactory = numpy_index_factory,
        index: VectorIndex | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.models, self.mode = models, mode
        self.centroids, self.strengths = as_matrix(centroids), np.asarray(strengths, dtype=np.float64)
        self.k, self.power, self.prior = int(k), float(power), float(prior)
        self.exemplars = as_matrix(
            exemplars if exemplars is not None else np.zeros((0, self.centroids.shape[1]))
        )
        self.scores = np.asarray(
            scores if scores is not None else np.zeros((0, len(models))), dtype=np.float64
        )
        self.index: VectorIndex | None = index
        if mode == "similarity":
            if len(self.exemplars) == 0 or self.scores.shape != (len(self.exemplars), len(models)):
                raise ValueError("similarity mode needs exemplars and their (n, m) scores")
            if self.index is None:
                self.index = index_factory(self.exemplars.shape[1])
                self.index.add(self.exemplars)
            self._global_games = pairwise_wins(self.scores).mean(axis=0)

    def predict(self, embeddings: npt.NDArray[np.float32]) -> FloatArray:
        """Predicted quality ``(n, m)``: expected win rates in [0, 1]."""
        x = as_matrix(embeddings, self.centroids.shape[1])
        if self.mode != "similarity":
            nearest = (x @ self.centroids.T).argmax(axis=1)
            return win_rates(self.strengths[nearest])
        assert self.index is not None
        sims, ids = self.index.search(x, self.k)
        return self.neighbourhood_rates(sims, ids, self.power, self.prior)

    def neighbourhood_rates(
        self, sims: npt.NDArray[np.float32], ids: npt.NDArray[np.int64], power: float, prior: float
    ) -> FloatArray:
        """Win rates from each query's neighbours ``ids`` with similarities ``sims`` (``similarity`` mode)."""
        m = len(self.models)
        out = np.empty((len(ids), m))
        for start in range(0, len(ids), _BLOCK):
            block_ids = ids[start : start + _BLOCK]
            weights = np.maximum(sims[start : start + _BLOCK].astype(np.float64), 0.0) ** power
            games = pairwise_wins(self.scores[block_ids.ravel()]).reshape(*block_ids.shape, m, m)
            weighted = np.einsum("qk,qkab->qab", weights, games) + prior * self._global_games
            out[start : start + len(block_ids)] = win_rates(bradley_terry(weighted))
        return out

    def hyperparameters(self) -> Mapping[str, object]:
        """Mode and neighbourhood settings."""
        return {"mode": self.mode, "k": self.k, "power": self.power, "prior": self.prior}

    def arrays(self) -> Mapping[str, npt.NDArray[np.generic]]:
        """Centroids, strengths and (similarity mode) exemplars with their scores."""
        return {
            "centroids": self.centroids,
            "strengths": self.strengths,
            "exemplars": self.exemplars,
            "scores": self.scores,
        }


def train_elo(
    data: TrainingData,
    *,
    mode: str = "similarity",
    k: int | None = None,
    power: float | None = None,
    prior: float = 1.0,
    index_factory: IndexFactory = numpy_index_factory,
    seed: int = 0,
) -> EloRouter:
    """Fit Bradley-Terry strengths; in ``similarity`` mode, ``None`` settings are tuned on a holdout."""
    wins = pairwise_wins(data.scores)
    global_strength = bradley_terry(wins.sum(axis=0))[None, :]
    dim = data.embeddings.shape[1]
    if mode == "task":
        tasks, centroids, _ = task_statistics(data)
        index = np.unique(np.asarray(data.tasks, dtype=object), return_inverse=True)[1]
        per_task = np.stack([wins[index == t].sum(axis=0) for t in range(len(tasks))])
        strengths = bradley_terry(per_task + wins.mean(axis=0))  # one pseudo-game of the global record
        return EloRouter(models=data.models, mode=mode, centroids=centroids, strengths=strengths)
    if mode == "global":
        return EloRouter(
            models=data.models, mode=mode, centroids=np.ones((1, dim), np.float32), strengths=global_strength
        )
    if k is None or power is None:
        k, power = _tune(data, k, power, prior, seed)
    return EloRouter(
        models=data.models,
        mode=mode,
        centroids=np.ones((1, dim), np.float32),
        strengths=global_strength,
        exemplars=data.embeddings,
        scores=data.scores,
        k=k,
        power=power,
        prior=prior,
        index_factory=index_factory,
    )


def _tune(
    data: TrainingData, k: int | None, power: float | None, prior: float, seed: int
) -> tuple[int, float]:
    fit, val = data.holdout(0.2, seed)
    probe = train_elo(fit, mode="similarity", k=max(k or 300, 1), power=power or 1.0, prior=prior)
    assert probe.index is not None
    ks = (k,) if k is not None else tuple(x for x in (30, 100, 300) if x <= len(fit)) or (len(fit),)
    powers = (power,) if power is not None else (1.0, 4.0, 16.0)
    sims, ids = probe.index.search(val.embeddings, max(ks))
    best = (float("-inf"), ks[0], powers[0])
    for kk in ks:
        for pw in powers:
            predicted = probe.neighbourhood_rates(sims[:, :kk], ids[:, :kk], pw, prior)
            score = routing_score(predicted, val.scores, val.costs)
            if score > best[0]:
                best = (score, kk, pw)
    return best[1], best[2]
