"""Embedder adapters for trained routers and the loaders that rebuild them from artifacts.

The hashing embedder lives in the core (numpy only); the sentence-transformers embedder needs the
optional extra ``routeiq[embeddings]`` and is imported lazily, so this package imports without torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from routeiq_adapters.embeddings.sentence_transformer import (
    MINILM,
    EmbedderUnavailableError,
    SentenceTransformerConfig,
    SentenceTransformerEmbedder,
)
from routeiq_core.routing.learned.artifact import EmbedderLoader, default_embedder_loaders
from routeiq_core.routing.learned.embedding import Embedder
from routeiq_core.routing.learned.features import FeatureEmbedder, feature_embedder_loader

EMBEDDER_NAMES = ("hashing", "sentence-transformers", "minilm")


def embedder_loaders() -> Mapping[str, EmbedderLoader]:
    """Embedder kind -> artifact loader for every embedder that needs no gateway (read-only)."""
    bases: dict[str, EmbedderLoader] = {
        **default_embedder_loaders(),
        SentenceTransformerEmbedder.kind: SentenceTransformerEmbedder.from_saved,
    }
    return MappingProxyType({**bases, FeatureEmbedder.kind: feature_embedder_loader(bases)})


def ready_embedder(name: str, *, model: str = MINILM) -> Embedder | None:
    """A ready embedder for ``name``, or None for ``hashing`` (fitted on the training prompts instead).

    Args:
        name: One of :data:`EMBEDDER_NAMES` (``minilm`` is sentence-transformers with the bundled model).
        model: The sentence-transformers model: the bundled all-MiniLM-L6-v2 or a local directory.

    Raises:
        ValueError: Unknown name.
        EmbedderUnavailableError: The extra is not installed or the model cannot be found.
    """
    if name == "hashing":
        return None
    if name not in EMBEDDER_NAMES:
        raise ValueError(f"unknown embedder {name!r}; choose one of: {', '.join(EMBEDDER_NAMES)}")
    dim = SentenceTransformerConfig().dim if model == MINILM else 0
    return SentenceTransformerEmbedder(SentenceTransformerConfig(model=model, dim=dim)).load()


__all__ = [
    "EMBEDDER_NAMES",
    "MINILM",
    "EmbedderUnavailableError",
    "SentenceTransformerConfig",
    "SentenceTransformerEmbedder",
    "embedder_loaders",
    "ready_embedder",
]
