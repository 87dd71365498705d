"""Response caching: exact (hash of the normalised request) and semantic (nearest prompt).

Both are scoped per tenant and model group, so tenants never see each other's answers. The exact
cache stores entries behind the :class:`CacheStore` port (in-memory and Redis adapters in
``routeiq_adapters.cache``); the semantic cache keeps its vectors in process.
"""

from routeiq_core.cache.assemble import StreamAssembler
from routeiq_core.cache.entry import CachedResponse, replay_frames
from routeiq_core.cache.keys import (
    ANONYMOUS_SCOPE,
    IGNORED_PARAMS,
    cache_key,
    check_scope,
    normalized_request,
    params_fingerprint,
    tenant_scope,
)
from routeiq_core.cache.policy import CachePolicy, cacheable
from routeiq_core.cache.semantic import SemanticCache, SemanticScope, semantic_text
from routeiq_core.cache.store import CacheStore, CacheStoreError

__all__ = [
    "ANONYMOUS_SCOPE",
    "IGNORED_PARAMS",
    "CachePolicy",
    "CacheStore",
    "CacheStoreError",
    "CachedResponse",
    "SemanticCache",
    "SemanticScope",
    "StreamAssembler",
    "cache_key",
    "cacheable",
    "check_scope",
    "normalized_request",
    "params_fingerprint",
    "replay_frames",
    "semantic_text",
    "tenant_scope",
]
