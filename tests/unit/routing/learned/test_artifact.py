"""Artifacts: every router kind round-trips; missing, extra, tampered and truncated files are refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from routeiq_core.errors import RouteIQError
from routeiq_core.routing.learned import (
    TRAINABLE_KINDS,
    ArtifactError,
    CostModel,
    HashingEmbedder,
    HashingEmbedderConfig,
    RoutingModel,
    RoutingTable,
    SemanticRoute,
    build_semantic_router,
    load_router,
    read_metadata,
    save_router,
    train_routing_model,
)
from tests.unit.routing.learned.synthetic import MODELS, synthetic_table

CONFIG = HashingEmbedderConfig(dim=64, hash_bits=12)
FAST = {
    "mlp": {"epochs": 2},
    "matrix_factorization": {"epochs": 2},
    "knn": {"k": 5, "power": 1.0, "prior": 1.0},
}


@pytest.fixture(scope="module")
def table() -> RoutingTable:
    return synthetic_table(90)


def _trained(kind: str, table: RoutingTable, **extra: object) -> RoutingModel:
    return train_routing_model(kind, table, embedder_config=CONFIG, **{**FAST.get(kind, {}), **extra})


CASES = [(k, {}) for k in TRAINABLE_KINDS if k != "threshold"] + [
    ("elo", {"mode": "task"}),
    ("elo", {"mode": "global"}),
    ("knn", {"base": "mean", "k": 3, "power": 2.0, "prior": 0.5}),
    ("best_per_task", {"classifier": "softmax", "l2": 1e-3, "temperature": 1.0}),
    ("best_per_task", {"classifier": "centroid", "temperature": 0.05}),
]


@pytest.mark.parametrize(("kind", "extra"), CASES, ids=lambda v: str(v))
def test_round_trip(kind: str, extra: dict[str, object], table: RoutingTable, tmp_path: Path) -> None:
    model = _trained(kind, table, **extra)
    save_router(model, tmp_path / "a")
    loaded = load_router(tmp_path / "a")
    assert loaded.router.kind == kind
    assert loaded.models == MODELS
    np.testing.assert_allclose(loaded.predict(table.prompts), model.predict(table.prompts), rtol=1e-12)
    np.testing.assert_array_equal(loaded.costs.estimate(table.prompts), model.costs.estimate(table.prompts))
    assert loaded.metadata["training_table_hash"] == table.content_hash()


def test_threshold_round_trip(tmp_path: Path) -> None:
    two = synthetic_table(60)
    two = type(two)(
        ids=two.ids, prompts=two.prompts, tasks=two.tasks, models=MODELS[:2],
        scores=two.scores[:, :2], costs=two.costs[:, :2],
    )  # fmt: skip
    model = _trained("threshold", two, base="linear", strong_share=0.3)
    save_router(model, tmp_path / "t")
    loaded = load_router(tmp_path / "t")
    np.testing.assert_allclose(loaded.predict(two.prompts), model.predict(two.prompts))
    assert read_metadata(tmp_path / "t").hyperparameters["base"]["kind"] == "linear"


def test_semantic_round_trip(tmp_path: Path) -> None:
    embedder = HashingEmbedder(CONFIG)
    router = build_semantic_router(
        [SemanticRoute(name="code", model="coder", utterances=("write python code",))],
        embedder,
        default_model="big",
    )
    costs = CostModel(models=router.models, intercept=np.array([1.0, 0.1]), slope=np.zeros(2))
    model = RoutingModel(embedder=embedder, router=router, costs=costs)
    save_router(model, tmp_path / "s")
    loaded = load_router(tmp_path / "s")
    assert [d.model for d in loaded.route(["write python code please", "hello"])] == ["coder", "big"]


def test_metadata_and_manifest(table: RoutingTable, tmp_path: Path) -> None:
    save_router(_trained("linear", table), tmp_path / "a")
    meta = read_metadata(tmp_path / "a")
    assert meta.kind == "linear"
    assert meta.version == 1
    assert meta.models == MODELS
    assert meta.embedder.kind == "hashing"
    assert meta.embedder.config["dim"] == 64
    assert meta.created_at
    assert meta.training_table_hash == table.content_hash()
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    listed = set(manifest["files"])
    on_disk = {p.relative_to(tmp_path / "a").as_posix() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    assert listed == on_disk - {"manifest.json"}
    assert all(len(entry["sha256"]) == 64 for entry in manifest["files"].values())


@pytest.fixture
def artifact(table: RoutingTable, tmp_path: Path) -> Path:
    return save_router(_trained("knn", table), tmp_path / "a")


def test_tampered_file_is_refused(artifact: Path) -> None:
    target = artifact / "arrays" / "router.scores.npy"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=r"router\.scores\.npy fails its SHA-256 check") as info:
        load_router(artifact)
    assert isinstance(info.value, RouteIQError)


def test_truncated_file_is_refused(artifact: Path) -> None:
    target = artifact / "arrays" / "router.exemplars.npy"
    target.write_bytes(target.read_bytes()[:100])
    with pytest.raises(ArtifactError, match="truncated"):
        load_router(artifact)


def test_missing_file_is_refused(artifact: Path) -> None:
    (artifact / "metadata.json").unlink()
    with pytest.raises(ArtifactError, match=r"metadata\.json is listed in the manifest but missing"):
        load_router(artifact)


def test_extra_file_is_refused(artifact: Path) -> None:
    (artifact / "arrays" / "evil.npy").write_bytes(b"x")
    with pytest.raises(ArtifactError, match=r"not in the manifest: arrays/evil\.npy"):
        load_router(artifact)


def test_missing_manifest_is_refused(artifact: Path, tmp_path: Path) -> None:
    (artifact / "manifest.json").unlink()
    with pytest.raises(ArtifactError, match=r"no manifest\.json"):
        load_router(artifact)
    with pytest.raises(ArtifactError, match="no such router artifact"):
        load_router(tmp_path / "nowhere")


def test_pickled_arrays_are_never_loaded(artifact: Path) -> None:
    # Re-sign an object array (which would need pickle): the manifest passes, numpy refuses it.
    target = artifact / "arrays" / "router.scores.npy"
    with target.open("wb") as handle:
        np.save(handle, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    manifest = json.loads((artifact / "manifest.json").read_text())
    data = target.read_bytes()
    manifest["files"]["arrays/router.scores.npy"] = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }
    (artifact / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match=r"cannot read array router\.scores"):
        load_router(artifact)


def test_existing_directory_needs_overwrite(artifact: Path, table: RoutingTable) -> None:
    with pytest.raises(ArtifactError, match="already exists"):
        save_router(_trained("linear", table), artifact)
    save_router(_trained("linear", table), artifact, overwrite=True)
    assert load_router(artifact).router.kind == "linear"
