"""The sentence-transformers embedder with the bundled all-MiniLM-L6-v2 weights: real model, no network.

Covers the embedder itself, router artifacts that carry it (save, verify, load, same predictions),
the CLI (`--embedder minilm`), a routed model name served through HTTP with it, and the errors a user
sees when the extra is missing or a model is not local.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient

from routeiq_adapters.embeddings import (
    EmbedderUnavailableError,
    SentenceTransformerConfig,
    SentenceTransformerEmbedder,
    embedder_loaders,
    ready_embedder,
)
from routeiq_app import Container, create_app
from routeiq_app.settings import load_settings
from routeiq_core.routing.learned import (
    Embedder,
    load_router,
    load_routing_table,
    read_metadata,
    save_router,
    train_routing_model,
)

pytest.importorskip("sentence_transformers")


def write_table(path: Path) -> None:
    """Cooking questions: the small model is right; physics questions: only the big one (50x the cost).

    Test prompts share no words with training prompts of their topic, so only meaning routes them.
    """
    cooking = ["how long should I knead bread dough", "best way to caramelise onions", "why did my cake sink"]
    physics = ["derive the lorentz transformation", "explain quantum tunnelling", "what is entropy in a gas"]
    rows = []
    for i in range(24):
        is_physics = i % 2 == 1
        topic = physics if is_physics else cooking
        rows.append(
            {
                "id": f"r{i}",
                "prompt": f"{topic[i % 3]} (question {i})",
                "task": "physics" if is_physics else "cooking",
                "scores": {"small-model": 0.0 if is_physics else 1.0, "big-model": 1.0},
                "costs": {"small-model": 0.0001, "big-model": 0.005},
            }
        )
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    embedder = ready_embedder("minilm")
    assert isinstance(embedder, SentenceTransformerEmbedder)
    return embedder


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory, minilm: SentenceTransformerEmbedder) -> Path:
    root = tmp_path_factory.mktemp("st-router")
    write_table(root / "table.jsonl")
    table = load_routing_table(root / "table.jsonl")
    model = train_routing_model("knn", table, embedder=minilm, seed=0, k=5, power=1.0, prior=0.5)
    return save_router(model, root / "artifact")


def test_embeddings_are_unit_rows_of_the_model_dimension_and_carry_meaning(
    minilm: SentenceTransformerEmbedder,
) -> None:
    assert isinstance(minilm, Embedder)
    vectors = minilm.embed(
        ["how do I bake sourdough bread", "a recipe for a crusty loaf", "stock market crash"]
    )
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    np.testing.assert_allclose(minilm.embed(["how do I bake sourdough bread"])[0], vectors[0], atol=1e-5)
    assert minilm.embed([]).shape == (0, 384)


def test_artifact_records_the_embedder_and_reloads_to_the_same_predictions(
    artifact: Path, minilm: SentenceTransformerEmbedder
) -> None:
    meta = read_metadata(artifact)
    assert meta.embedder.kind == "sentence_transformers"
    assert meta.embedder.config["dim"] == 384
    assert meta.embedder.config["model"] == "all-MiniLM-L6-v2"
    loaded = load_router(artifact, embedder_loaders=embedder_loaders())
    prompts = ["is baking soda the same as baking powder", "how does a black hole evaporate"]
    first = loaded.predict(prompts)
    assert first.shape == (2, 2)
    np.testing.assert_allclose(loaded.predict(prompts), first)
    big = loaded.models.index("big-model")
    small = loaded.models.index("small-model")
    # Unseen wording: the physics question needs the big model, the cooking one does not.
    assert first[1, big] - first[1, small] > first[0, big] - first[0, small]


def test_default_loaders_refuse_the_kind_with_a_clear_error(artifact: Path) -> None:
    from routeiq_core.routing.learned import ArtifactError

    with pytest.raises(ArtifactError, match="no loader for embedder kind 'sentence_transformers'"):
        load_router(artifact)


def test_a_model_that_is_not_local_is_refused_not_downloaded(tmp_path: Path) -> None:
    embedder = SentenceTransformerEmbedder(
        SentenceTransformerConfig(model="sentence-transformers/other-model")
    )
    with pytest.raises(EmbedderUnavailableError, match="never downloads weights"):
        embedder.embed(["hi"])
    with pytest.raises(EmbedderUnavailableError, match="not a local model directory"):
        SentenceTransformerEmbedder(SentenceTransformerConfig(model=str(tmp_path))).load()


def test_a_dimension_mismatch_is_refused() -> None:
    with pytest.raises(EmbedderUnavailableError, match="384-dimensional vectors, expected 128"):
        SentenceTransformerEmbedder.from_saved({"model": "all-MiniLM-L6-v2", "dim": 128}, {})


def without_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if sentence-transformers were not installed (and so nothing had been loaded either)."""
    from routeiq_adapters.embeddings.sentence_transformer import _shared_model

    _shared_model.cache_clear()
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)


def test_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    without_the_extra(monkeypatch)
    with pytest.raises(EmbedderUnavailableError, match=r"pip install 'routeiq\[embeddings\]'"):
        SentenceTransformerEmbedder().load()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "routeiq_app.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_cli_trains_and_routes_with_minilm(tmp_path: Path) -> None:
    write_table(tmp_path / "t.jsonl")
    out = tmp_path / "router"
    trained = run_cli(
        "train", "--strategy", "knn", "--data", str(tmp_path / "t.jsonl"), "--out", str(out),
        "--embedder", "minilm", "--index", "numpy", "--param", "k=5", "--param", "power=1",
        "--param", "prior=0.5", "--quiet",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert read_metadata(out).embedder.kind == "sentence_transformers"
    routed = run_cli("route", "explain the photoelectric effect", "--router", str(out), "--json")
    assert routed.returncode == 0, routed.stderr
    assert json.loads(routed.stdout)["model"] == "big-model"
    bad = run_cli(
        "train", "--strategy", "knn", "--data", str(tmp_path / "t.jsonl"), "--out", str(tmp_path / "x"),
        "--embedder", "sentence-transformers", "--embedder-model", str(tmp_path / "nope"),
    )  # fmt: skip
    assert bad.returncode == 2
    assert "not a local model directory" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.fixture
def client(artifact: Path, tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"""
model_list:
  - model_name: cheap
    litellm_params: {{model: mock/cheap, mock: {{content: from cheap}}}}
  - model_name: strong
    litellm_params: {{model: mock/strong, mock: {{content: from strong}}}}
routing:
  routers:
    - name: auto
      artifact: '{artifact}'
      cost_weight: 0.0
      model_map: {{small-model: cheap, big-model: strong}}
"""
    )
    container = Container()
    container.settings.override(providers.Object(load_settings(str(cfg), {})))
    with TestClient(create_app(container), raise_server_exceptions=False) as c:
        yield c


def test_gateway_routes_by_meaning_with_the_minilm_router(client: TestClient[Litestar]) -> None:
    def choice(prompt: str, weight: str) -> str:
        body = {"model": "auto", "messages": [{"role": "user", "content": prompt}]}
        r = client.post("/v1/chat/completions", json=body, headers={"x-routeiq-cost-weight": weight})
        assert r.status_code == 200, r.text
        return r.headers["x-routeiq-router-choice"]

    assert choice("what does the second law of thermodynamics say", "50") == "strong"
    assert choice("how many eggs go into a sponge cake", "50") == "cheap"


def test_semantic_cache_with_minilm_serves_a_paraphrase_and_not_another_question(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        """
model_list:
  - model_name: echo
    litellm_params: {model: mock/echo, mock: {echo: true}}
plugins: {enabled: [semantic_cache], semantic_cache: {embedder: minilm, threshold: 0.8}}
"""
    )
    container = Container()
    container.settings.override(providers.Object(load_settings(str(cfg), {})))

    def ask(client: TestClient[Litestar], text: str) -> str:
        body = {"model": "echo", "temperature": 0, "messages": [{"role": "user", "content": text}]}
        r = client.post("/v1/chat/completions", json=body)
        assert r.status_code == 200, r.text
        return r.headers["x-routeiq-cache"]

    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        assert ask(client, "How do I reset my account password?") == "miss"
        assert ask(client, "What is the way to reset the password of my account?") == "hit"
        assert ask(client, "Which planets have rings?") == "miss"


def test_semantic_cache_without_the_extra_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from routeiq_adapters.metrics import InMemoryMetrics
    from routeiq_adapters.plugins.deps import PluginDeps
    from routeiq_adapters.plugins.semantic_cache import SemanticCacheConfig, SemanticCachePlugin
    from routeiq_core.errors import ConfigurationError

    without_the_extra(monkeypatch)
    with pytest.raises(ConfigurationError, match=r"plugins.semantic_cache.embedder: .*routeiq\[embeddings\]"):
        SemanticCachePlugin(SemanticCacheConfig(embedder="minilm"), PluginDeps(metrics=InMemoryMetrics()))


def test_embedders_of_one_model_share_the_loaded_weights(minilm: SentenceTransformerEmbedder) -> None:
    first = SentenceTransformerEmbedder.from_saved(minilm.config_dict(), {})
    again = SentenceTransformerEmbedder.from_saved(minilm.config_dict(), {})
    assert again._model is first._model
    shorter = SentenceTransformerEmbedder(SentenceTransformerConfig(max_seq_length=64)).load()
    assert shorter._model is not first._model
    assert shorter._model.max_seq_length == 64
    assert first._model.max_seq_length == 256
