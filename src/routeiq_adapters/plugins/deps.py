"""What the app hands to built-in plugins: metrics, provider access, feedback, an embedder."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec

from routeiq_core.catalog import Deployment
from routeiq_core.metrics import Metrics
from routeiq_core.plugins.port import PluginContext
from routeiq_core.providers import ProviderClient
from routeiq_core.routing.learned.embedding import Embedder

ProviderLookup = Callable[[str], tuple[ProviderClient, Deployment]]
"""Deployment id → the provider client reaching it and the deployment (raises ``LookupError`` if unknown)."""

Feedback = Callable[[PluginContext, float], Awaitable[None]]
"""Receives a request's quality score in ``[0, 1]`` (fed to routing outcomes and the feedback store)."""


class PluginDeps(msgspec.Struct, frozen=True, kw_only=True):
    """The app's services a built-in plugin may use; the container fills it once per process.

    Attributes:
        metrics: Where plugins count and observe.
        provider_for: Reaches a deployment by id, for LlamaGuard and the LLM judge (None: unavailable).
        feedback: Takes evaluator scores (None: scores only go to metrics).
        embedder: The semantic cache's embedder (None: a dependency-free ``HashingEmbedder``).
    """

    metrics: Metrics
    provider_for: ProviderLookup | None = None
    feedback: Feedback | None = None
    embedder: Embedder | None = None
