"""``semantic_cache``: answers a prompt with the cached answer of a near-identical earlier prompt."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from routeiq_adapters.plugins._cache_base import CACHE_HEADER, CacheOptions, ResponseCachePlugin
from routeiq_adapters.plugins.deps import PluginDeps
from routeiq_core.cache.entry import CachedResponse
from routeiq_core.cache.keys import params_fingerprint
from routeiq_core.cache.semantic import SemanticCache, SemanticScope, semantic_text
from routeiq_core.errors import ConfigurationError, RouteIQError
from routeiq_core.plugins.port import Capability, FailureMode, PluginContext, PluginSpec
from routeiq_core.providers import Operation
from routeiq_core.routing.learned.embedding import Embedder, HashingEmbedder, HashingEmbedderConfig

NAME = "semantic_cache"
SIMILARITY_HEADER = "x-routeiq-cache-similarity"


class SemanticCacheConfig(CacheOptions, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of ``plugins.semantic_cache`` (the shared cache settings, plus matching).

    Attributes:
        threshold: Cosine similarity at or above which a cached answer is served (0.95 suits the
            built-in hashing embedder; about 0.9 suits sentence-transformer embeddings).
        max_entries: Entries kept per scope (model group, tenant, parameters).
        max_scopes: Scopes kept in this process.
        embedding_dim: Dimension of the built-in hashing embedder (when the app gives none).
        embedder: ``hashing`` (numpy, lexical) or ``minilm`` (all-MiniLM-L6-v2 sentence embeddings:
            paraphrases match; needs the ``embeddings`` extra; embedding runs off the event loop).
    """

    threshold: Annotated[float, msgspec.Meta(gt=0.0, le=1.0)] = 0.95
    max_entries: Annotated[int, msgspec.Meta(ge=1)] = 1_000
    max_scopes: Annotated[int, msgspec.Meta(ge=1)] = 10_000
    embedding_dim: Annotated[int, msgspec.Meta(ge=2)] = 1024
    embedder: Literal["hashing", "minilm"] = "hashing"


class _Plan(msgspec.Struct, frozen=True):
    scope: SemanticScope
    text: str


class SemanticCachePlugin(ResponseCachePlugin[_Plan]):
    """Looks prompts up by embedding similarity, only within one model group, tenant and parameter set.

    Entries live in this process. Embeddings are never cached; the operation and every parameter
    other than the prompt (``max_tokens``, ``response_format``, ...) must match exactly.

    Args:
        config: The plugin's settings.
        deps: The app's services (metrics, and optionally the ``embedder``).
    """

    cache_kind = "semantic"

    def __init__(self, config: SemanticCacheConfig, deps: PluginDeps) -> None:
        spec = PluginSpec(
            name=NAME,
            version="1",
            capabilities=frozenset({Capability.REQUEST_READ, Capability.RESPONSE_READ, Capability.STORAGE}),
            failure_mode=FailureMode.CONTINUE,
        )
        super().__init__(config, deps, spec)
        self.config = config
        embedder = deps.embedder or _embedder(config)
        self.cache = SemanticCache(
            embedder,
            threshold=config.threshold,
            max_entries=config.max_entries,
            max_scopes=config.max_scopes,
            ttl_s=config.ttl_s,
        )

    def plan(self, ctx: PluginContext, group: str, scope: str) -> _Plan | None:
        """The scope (model group, tenant, operation and parameters) and the text to match."""
        if ctx.operation is Operation.EMBEDDINGS:
            return None
        text = semantic_text(ctx.payload)
        if not text:
            return None
        variant = f"{ctx.operation.value}:{params_fingerprint(ctx.payload)}"
        return _Plan(SemanticScope(group, scope, variant), text)

    async def lookup(self, plan: _Plan) -> tuple[CachedResponse, Mapping[str, str]] | None:
        """The answer of the most similar prompt, if similar enough."""
        found = await self.cache.lookup(plan.scope, plan.text)
        if found is None:
            return None
        entry, similarity = found
        return entry, {CACHE_HEADER: "hit", SIMILARITY_HEADER: f"{similarity:.4f}"}

    async def store(self, plan: _Plan, entry: CachedResponse) -> None:
        """Keep the answer for this prompt."""
        await self.cache.add(plan.scope, plan.text, entry)


def _embedder(config: SemanticCacheConfig) -> Embedder:
    """The configured built-in embedder (MiniLM is loaded now, so a missing extra fails at startup)."""
    if config.embedder == "hashing":
        return HashingEmbedder(HashingEmbedderConfig(dim=config.embedding_dim))
    from routeiq_adapters.embeddings import ready_embedder

    try:
        loaded = ready_embedder("minilm")
    except RouteIQError as exc:
        raise ConfigurationError([f"plugins.{NAME}.embedder: {exc.message}"]) from None
    if loaded is None:  # pragma: no cover - only the hashing embedder has no ready instance
        raise ConfigurationError([f"plugins.{NAME}.embedder: no ready MiniLM embedder"])
    return loaded
