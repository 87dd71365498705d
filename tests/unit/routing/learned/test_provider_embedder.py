"""The embeddings-API embedder over the provider port (the mock provider: no network)."""

from __future__ import annotations

import anyio
import anyio.to_thread
import numpy as np
import pytest

from routeiq_adapters.providers.mock import MockBehaviour, MockProvider
from routeiq_core.catalog import Deployment
from routeiq_core.errors import UpstreamError
from routeiq_core.routing.learned.provider_embedder import ProviderEmbedder


def deployment(dim: int = 16) -> Deployment:
    return Deployment(
        id="embed-0",
        model_group="embed",
        adapter="mock",
        upstream_model="embedder",
        params={"mock": MockBehaviour(embedding_dim=dim)},
    )


def test_embeds_in_batches_with_unit_rows_and_is_deterministic() -> None:
    embedder = ProviderEmbedder(MockProvider(), deployment(), dim=16, batch_size=2)
    vectors = embedder.embed(["a", "b", "c"])  # no event loop here: it runs one
    assert vectors.shape == (3, 16)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert np.array_equal(embedder.embed(["b"])[0], vectors[1])


def test_from_a_worker_thread_it_calls_back_into_the_loop() -> None:
    embedder = ProviderEmbedder(MockProvider(), deployment(), dim=16)

    async def main() -> tuple[int, int]:
        vectors = await anyio.to_thread.run_sync(embedder.embed, ["x", "y"])
        return vectors.shape  # type: ignore[return-value]

    assert anyio.run(main) == (2, 16)


def test_a_wrong_dimension_is_an_upstream_error() -> None:
    embedder = ProviderEmbedder(MockProvider(), deployment(dim=8), dim=16)
    with pytest.raises(UpstreamError, match="expected"):
        embedder.embed(["a"])


def test_config_names_the_deployment() -> None:
    embedder = ProviderEmbedder(MockProvider(), deployment(), dim=16)
    assert embedder.config_dict() == {"deployment": "embed-0", "dim": 16}
    assert embedder.state() == {}
