"""Rebuild a router of any kind from its saved hyperparameters and arrays (the inverse of ``arrays()``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from routeiq_core.routing.learned.best_per_task import BestPerTaskRouter
from routeiq_core.routing.learned.elo import EloRouter
from routeiq_core.routing.learned.knn import KnnRouter
from routeiq_core.routing.learned.linear import LinearRouter
from routeiq_core.routing.learned.matrix_factorization import MatrixFactorizationRouter
from routeiq_core.routing.learned.mlp import MlpRouter
from routeiq_core.routing.learned.router import QualityRouter
from routeiq_core.routing.learned.semantic import SemanticRouter
from routeiq_core.routing.learned.threshold import ThresholdRouter
from routeiq_core.routing.learned.vector_index import IndexFactory, VectorIndex

Arrays = Mapping[str, npt.NDArray[Any]]


class RebuildContext:
    """What rebuilding needs besides one router's own data: a loaded index and an index factory."""

    def __init__(self, index: VectorIndex | None, index_factory: IndexFactory) -> None:
        self.index, self.index_factory = index, index_factory


Builder = Callable[[tuple[str, ...], Mapping[str, Any], Arrays, RebuildContext], QualityRouter]


def _prefixed(arrays: Arrays, prefix: str) -> Arrays:
    return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}


def _nested(
    models: tuple[str, ...], spec: Mapping[str, Any], arrays: Arrays, ctx: RebuildContext
) -> QualityRouter:
    hyper = {k: v for k, v in spec.items() if k != "kind"}
    return rebuild_router(
        str(spec["kind"]), models, hyper, _prefixed(arrays, "base."), RebuildContext(None, ctx.index_factory)
    )


def _knn(
    models: tuple[str, ...], hyper: Mapping[str, Any], arrays: Arrays, ctx: RebuildContext
) -> QualityRouter:
    base = None if hyper.get("base") is None else _nested(models, hyper["base"], arrays, ctx)
    return KnnRouter(
        models=models,
        exemplars=arrays["exemplars"],
        scores=arrays["scores"],
        base=base,
        k=int(hyper["k"]),
        power=float(hyper["power"]),
        prior=float(hyper["prior"]),
        index_factory=ctx.index_factory,
        index=ctx.index,
    )


def _linear(
    models: tuple[str, ...], hyper: Mapping[str, Any], arrays: Arrays, ctx: RebuildContext
) -> QualityRouter:
    return LinearRouter(
        models=models,
        weights=arrays["weights"],
        x_mean=arrays["x_mean"],
        y_mean=arrays["y_mean"],
        alpha=float(hyper["alpha"]),
    )


def _mlp(
    models: tuple[str, ...], hyper: Mapping[str, Any], arrays: Arrays, ctx: RebuildContext
) -> QualityRouter:
    return MlpRouter(
        models=models, w1=arrays["w1"], b1=arrays["b1"], w2=arrays["w2"], b2=arrays["b2"], hyper=hyper
    )


def _mf(
    models: tuple[str, ...], hyper: Mapping[str, Any], arrays: Arrays, ctx: RebuildContext
) -> QualityRouter:
    return MatrixFactorizationRouter(
        models=models,
        projection=arrays["projection"],
        model_vectors=arrays["model_vectors"],
        bias=arrays["bias"],
        hyper=hyper,
    )


def _elo(
    models: tuple[str, ...], hyper: Mapping[str, Any], arrays: Arrays, ctx: RebuildContext
) -> QualityRouter:
    similarity = hyper["mode"] == "similarity"
    return EloRouter(
        models=models,
        mode=str(hyper["mode"]),
        centroids=arrays["centroids"],
        strengths=arrays["strengths"],
        exemplars=arrays["exemplars"] if similarity else None,
        scores=arrays["scores"] if similarity else None,
        k=int(hyper["k"]),
        power=float(hyper["power"]),
        prior=float(hyper["prior"]),
        index_factory=ctx.index_factory,
        index=ctx.index if similarity else None,
    )


def _best_per_task(
    models: tuple[str, ...], hyper: Mapping[str, Any], arrays: Arrays, ctx: RebuildContext
) -> QualityRouter:
    return BestPerTaskRouter(
        models=models,
        tasks=tuple(str(t) for t in hyper["tasks"]),
        centroids=arrays["centroids"],
        task_means=arrays["task_means"],
        temperature=float(hyper["temperature"]),
        bias=arrays.get("bias"),
    )


def _semantic(
    models: tuple[str, ...], hyper: Mapping[str, Any], arrays: Arrays, ctx: RebuildContext
) -> QualityRouter:
    return SemanticRouter(
        models=models,
        route_names=tuple(str(n) for n in hyper["route_names"]),
        route_models=arrays["route_models"].astype(np.int64),
        utterance_vectors=arrays["utterance_vectors"],
        utterance_routes=arrays["utterance_routes"].astype(np.int64),
        threshold=float(hyper["threshold"]),
        default_model=int(hyper["default_model"]),
    )


def _threshold(
    models: tuple[str, ...], hyper: Mapping[str, Any], arrays: Arrays, ctx: RebuildContext
) -> QualityRouter:
    share = hyper.get("target_strong_share")
    return ThresholdRouter(
        base=_nested(models, hyper["base"], arrays, ctx),
        strong=int(hyper["strong"]),
        threshold=float(hyper["threshold"]),
        target_strong_share=None if share is None else float(share),
    )


def builders() -> Mapping[str, Builder]:
    """Router kind -> rebuild function (read-only)."""
    return MappingProxyType(
        {
            "knn": _knn,
            "linear": _linear,
            "mlp": _mlp,
            "matrix_factorization": _mf,
            "elo": _elo,
            "best_per_task": _best_per_task,
            "semantic": _semantic,
            "threshold": _threshold,
        }
    )


def rebuild_router(
    kind: str, models: tuple[str, ...], hyper: Mapping[str, Any], arrays: Arrays, ctx: RebuildContext
) -> QualityRouter:
    """Rebuild a router of ``kind``.

    Raises:
        KeyError: Unknown kind or a missing array/hyperparameter.
        ValueError: Arrays of inconsistent shapes.
    """
    table = builders()
    if kind not in table:
        raise KeyError(f"unknown router kind {kind!r} (known: {', '.join(sorted(table))})")
    return table[kind](models, hyper, arrays, ctx)
