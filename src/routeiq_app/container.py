"""The dependency-injector container: the only place stateful objects are built.

A fresh container per app (and per test). Settings are read lazily, the first time something asks
for them, never at import time.
"""

from __future__ import annotations

import random

from dependency_injector import containers, providers

from routeiq_adapters.metrics import InMemoryMetrics
from routeiq_adapters.providers.litellm import LiteLLMProvider
from routeiq_adapters.providers.mock import MockProvider
from routeiq_adapters.providers.openai_http import OpenAICompatibleProvider
from routeiq_app.auth import MasterKeyAuth
from routeiq_app.catalog_builder import build_catalog
from routeiq_app.logging_setup import configure_logging
from routeiq_app.providers_setup import open_clients, select_clients
from routeiq_app.settings import load_settings
from routeiq_app.state_setup import breaker_hooks, breaker_sync, run_breaker_sync
from routeiq_core import __version__
from routeiq_core.gateway import Gateway
from routeiq_core.gateway.health import DeploymentsHealthCheck
from routeiq_core.health import Lifecycle, Readiness
from routeiq_core.resilience import (
    BreakerConfig,
    BreakerRegistry,
    ConcurrencyLimiter,
    RetryPolicy,
)
from routeiq_core.routing import DeploymentStats, build_strategy


class Container(containers.DeclarativeContainer):
    """Every stateful object of one RouteIQ process."""

    settings = providers.Singleton(load_settings)
    _server = settings.provided.server
    _resilience = settings.provided.resilience

    logging = providers.Resource(configure_logging, settings=settings)
    lifecycle = providers.Singleton(Lifecycle)
    limiter = providers.Singleton(ConcurrencyLimiter, limit=_server.max_concurrent_requests)
    auth = providers.Singleton(MasterKeyAuth, master_key=settings.provided.security.master_key)

    catalog = providers.Singleton(build_catalog, settings=settings)
    metrics = providers.Singleton(InMemoryMetrics)
    rng = providers.Singleton(random.Random, settings.provided.routing.seed)

    breaker_sync = providers.Singleton(breaker_sync, settings.provided.state.redis_url)
    breakers = providers.Singleton(
        BreakerRegistry,
        config=providers.Singleton(
            BreakerConfig,
            failure_threshold=_resilience.breaker_failure_threshold,
            cooldown_s=_resilience.breaker_cooldown_s,
        ),
        on_transition=providers.Callable(breaker_hooks, metrics, breaker_sync),
    )
    breaker_sync_task = providers.Resource(run_breaker_sync, sync=breaker_sync, registry=breakers)
    retry = providers.Singleton(
        RetryPolicy,
        num_retries=_resilience.num_retries,
        base_delay_s=_resilience.retry_base_delay_s,
        max_delay_s=_resilience.retry_max_delay_s,
    )
    stats = providers.Singleton(DeploymentStats)
    strategy = providers.Singleton(
        build_strategy,
        settings.provided.routing.strategy,
        rng=rng,
        stats=stats,
        inner_tags=settings.provided.routing.tag_filtering,
    )

    mock_provider = providers.Singleton(MockProvider)
    openai_provider = providers.Singleton(OpenAICompatibleProvider)
    litellm_provider = providers.Singleton(LiteLLMProvider)
    provider_clients = providers.Singleton(
        select_clients,
        catalog=catalog,
        factories=providers.Dict(
            mock=mock_provider.provider, openai=openai_provider.provider, litellm=litellm_provider.provider
        ),
    )
    provider_pools = providers.Resource(open_clients, clients=provider_clients, catalog=catalog)

    gateway = providers.Singleton(
        Gateway,
        catalog=catalog,
        clients=provider_clients,
        strategy=strategy,
        breakers=breakers,
        retry=retry,
        metrics=metrics,
        stats=stats,
        request_timeout_s=_resilience.request_timeout_s,
        rng=rng,
    )

    health_checks = providers.List(
        providers.Singleton(DeploymentsHealthCheck, catalog=catalog, breakers=breakers)
    )
    readiness = providers.Singleton(Readiness, lifecycle=lifecycle, checks=health_checks, version=__version__)
