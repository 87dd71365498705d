"""Trained model routers: predict each candidate model's quality for a prompt, then trade it off against cost.

Usable with ``routeiq_core`` alone (numpy only)::

    from routeiq_core.routing.learned import load_routing_table, train_routing_model

    table = load_routing_table("mmlu-2model.jsonl")
    model = train_routing_model("knn", table)
    model.route(["What is 2 + 2?"], cost_weight=10.0)
"""

from routeiq_core.routing.learned.artifact import (
    ArtifactError,
    ArtifactMetadata,
    load_router,
    read_metadata,
    save_router,
    verify_artifact,
)
from routeiq_core.routing.learned.auto import select_strategy, train_auto
from routeiq_core.routing.learned.auto_fit import fit_candidate, predict_table
from routeiq_core.routing.learned.best_per_task import BestPerTaskRouter, train_best_per_task
from routeiq_core.routing.learned.costs import CostModel
from routeiq_core.routing.learned.crossval import (
    evaluate_kinds,
    evaluate_predictions,
    evaluate_with_baselines,
)
from routeiq_core.routing.learned.data import (
    RoutingRow,
    RoutingTable,
    RoutingTableError,
    k_fold,
    load_routing_table,
    table_from_rows,
    train_test_split,
)
from routeiq_core.routing.learned.dominance import dominated_models, drop_dominated
from routeiq_core.routing.learned.elo import EloRouter, train_elo
from routeiq_core.routing.learned.embedding import (
    Embedder,
    HashingEmbedder,
    HashingEmbedderConfig,
    SaveableEmbedder,
)
from routeiq_core.routing.learned.evaluate import many_model_metrics, routing_score, two_model_metrics
from routeiq_core.routing.learned.features import (
    FEATURE_NAMES,
    FeatureEmbedder,
    TaskPrior,
    feature_embedder_loader,
    prompt_features,
)
from routeiq_core.routing.learned.knn import KnnRouter, train_knn
from routeiq_core.routing.learned.linear import LinearRouter, train_linear
from routeiq_core.routing.learned.matrix_factorization import (
    MatrixFactorizationRouter,
    train_matrix_factorization,
)
from routeiq_core.routing.learned.mlp import MlpRouter, train_mlp
from routeiq_core.routing.learned.pipeline import RouteDecision, RoutingModel
from routeiq_core.routing.learned.registry import RouterRegistry
from routeiq_core.routing.learned.report import EvaluationReport, Interval, RouterReport, SingleModel
from routeiq_core.routing.learned.router import QualityRouter, TrainingData, apredict, decide, decide_batch
from routeiq_core.routing.learned.selection import (
    DEFAULT_MARGIN,
    Candidate,
    CandidateScore,
    SelectionReport,
    default_grid,
)
from routeiq_core.routing.learned.semantic import SemanticRoute, SemanticRouter, build_semantic_router
from routeiq_core.routing.learned.threshold import ThresholdRouter, calibrate_threshold
from routeiq_core.routing.learned.train import (
    TRAINABLE_KINDS,
    train_router,
    train_routing_model,
    training_data,
)
from routeiq_core.routing.learned.vector_index import (
    IndexFactory,
    NumpyExactIndex,
    PersistentVectorIndex,
    VectorIndex,
    numpy_index_factory,
)

__all__ = [
    "DEFAULT_MARGIN",
    "FEATURE_NAMES",
    "TRAINABLE_KINDS",
    "ArtifactError",
    "ArtifactMetadata",
    "BestPerTaskRouter",
    "Candidate",
    "CandidateScore",
    "CostModel",
    "EloRouter",
    "Embedder",
    "EvaluationReport",
    "FeatureEmbedder",
    "HashingEmbedder",
    "HashingEmbedderConfig",
    "IndexFactory",
    "Interval",
    "KnnRouter",
    "LinearRouter",
    "MatrixFactorizationRouter",
    "MlpRouter",
    "NumpyExactIndex",
    "PersistentVectorIndex",
    "QualityRouter",
    "RouteDecision",
    "RouterRegistry",
    "RouterReport",
    "RoutingModel",
    "RoutingRow",
    "RoutingTable",
    "RoutingTableError",
    "SaveableEmbedder",
    "SelectionReport",
    "SemanticRoute",
    "SemanticRouter",
    "SingleModel",
    "TaskPrior",
    "ThresholdRouter",
    "TrainingData",
    "VectorIndex",
    "apredict",
    "build_semantic_router",
    "calibrate_threshold",
    "decide",
    "decide_batch",
    "default_grid",
    "dominated_models",
    "drop_dominated",
    "evaluate_kinds",
    "evaluate_predictions",
    "evaluate_with_baselines",
    "feature_embedder_loader",
    "fit_candidate",
    "k_fold",
    "load_router",
    "load_routing_table",
    "many_model_metrics",
    "numpy_index_factory",
    "predict_table",
    "prompt_features",
    "read_metadata",
    "routing_score",
    "save_router",
    "select_strategy",
    "table_from_rows",
    "train_auto",
    "train_best_per_task",
    "train_elo",
    "train_knn",
    "train_linear",
    "train_matrix_factorization",
    "train_mlp",
    "train_router",
    "train_routing_model",
    "train_test_split",
    "training_data",
    "two_model_metrics",
    "verify_artifact",
]
