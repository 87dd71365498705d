"""The dependency-injector container: the only place stateful objects are built.

A fresh container per app (and per test). Settings are read lazily, the first time something asks
for them, never at import time.
"""

from __future__ import annotations

import random

from dependency_injector import containers, providers

from routeiq_adapters.metrics import InMemoryMetrics
from routeiq_adapters.metrics.node import run_node_metrics
from routeiq_adapters.providers.litellm import LiteLLMProvider
from routeiq_adapters.providers.mock import MockProvider
from routeiq_adapters.providers.openai_http import OpenAICompatibleProvider
from routeiq_app import (
    audit_setup,
    exploration_setup,
    feedback_setup,
    metrics_setup,
    otel_setup,
    provider_objects_setup,
    registry_setup,
    request_log_setup,
    responses_setup,
)
from routeiq_app.access_setup import (
    anonymous_principal,
    close_quota_store,
    key_hasher,
    key_store,
    open_key_store,
    open_team_store,
    quota_config,
    quota_store,
    run_spend_ledger,
    spend_ledger,
    team_store,
)
from routeiq_app.catalog_builder import build_catalog
from routeiq_app.logging_setup import configure_logging
from routeiq_app.mcp_setup import run_mcp
from routeiq_app.model_routing import ModelRouting
from routeiq_app.native_setup import close_forwarders, native_forwarders
from routeiq_app.node_history import NodeHistory, run_node_history
from routeiq_app.plugins_setup import allowed_capabilities, build_plugins, builtin_plugin_factory, run_plugins
from routeiq_app.providers_setup import open_clients, select_clients
from routeiq_app.routing_setup import select_strategy, with_affinity
from routeiq_app.settings import load_settings
from routeiq_app.startup_checks import limits_unavailable
from routeiq_app.state_setup import (
    affinity_store,
    breaker_hooks,
    breaker_sync,
    close_affinity_store,
    health_checks,
    run_breaker_sync,
)
from routeiq_app.surfaces.http import HttpRequestReader, parse_networks
from routeiq_app.surfaces.mcp.runtime import McpRuntime
from routeiq_app.surfaces.responses.conversation import Conversations
from routeiq_core import __version__
from routeiq_core.access import (
    Authenticator,
    CachedKeyStore,
    KeyService,
    OutageMonitor,
    PolicyEngine,
    QuotaHealthCheck,
    QuotaService,
    TeamService,
)
from routeiq_core.access.spend import PriceBook
from routeiq_core.calls import CallAccess, CallService, Settlement
from routeiq_core.gateway import Gateway
from routeiq_core.gateway.health import DeploymentsHealthCheck
from routeiq_core.health import Lifecycle, Readiness
from routeiq_core.plugins import PluginManager
from routeiq_core.provider_objects import ProviderObjects
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

    catalog = providers.Singleton(build_catalog, settings=settings)
    memory_metrics = providers.Singleton(InMemoryMetrics)
    # OpenTelemetry (the `otel` extra): providers only when tracing / OTel metrics are on.
    span_pipeline = providers.Singleton(otel_setup.span_pipeline, settings)
    meter_provider = providers.Singleton(otel_setup.meter_provider, settings)
    tracer = providers.Singleton(otel_setup.tracer, span_pipeline)
    otel_lifecycle = providers.Resource(otel_setup.run_otel, span_pipeline, meter_provider)
    metrics = providers.Singleton(otel_setup.emitted_metrics, memory_metrics, meter_provider)
    rng = providers.Singleton(random.Random, settings.provided.routing.seed)

    breaker_sync = providers.Singleton(
        breaker_sync, settings.provided.state.redis_url, settings.provided.state.namespace
    )
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
    node_metrics = providers.Singleton(
        metrics_setup.node_metrics,
        settings,
        providers.Callable(metrics_setup.worker_state, memory_metrics, limiter, breakers, catalog),
    )
    node_metrics_task = providers.Resource(run_node_metrics, node_metrics)
    node_history = providers.Singleton(NodeHistory, node_metrics)
    node_history_task = providers.Resource(run_node_history, node_history)
    retry = providers.Singleton(
        RetryPolicy,
        num_retries=_resilience.num_retries,
        base_delay_s=_resilience.retry_base_delay_s,
        max_delay_s=_resilience.retry_max_delay_s,
    )
    stats = providers.Singleton(DeploymentStats)
    base_strategy = providers.Singleton(
        build_strategy,
        settings.provided.routing.strategy,
        rng=rng,
        stats=stats,
        inner_tags=settings.provided.routing.tag_filtering,
    )
    selected_strategy = providers.Singleton(select_strategy, base_strategy, settings, rng, stats)
    affinity_store = providers.Singleton(
        affinity_store,
        settings.provided.state.redis_url,
        settings.provided.routing.affinity,
        settings.provided.state.namespace,
    )
    affinity_store_lifecycle = providers.Resource(close_affinity_store, affinity_store)
    strategy = providers.Singleton(with_affinity, selected_strategy, settings, affinity_store)

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
    forwarders = providers.Singleton(native_forwarders)
    forwarder_pools = providers.Resource(close_forwarders, forwarders)

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
        tracer=tracer,
        capture_content=settings.provided.observability.capture_content,
        forwarders=forwarders,
    )

    # Access: keys, policy, quota, spend (every call goes through the call use case, below).
    _keys = settings.provided.keys
    key_hasher = providers.Singleton(key_hasher, settings)
    key_store = providers.Singleton(key_store, settings)
    key_store_lifecycle = providers.Resource(open_key_store, key_store)
    cached_keys = providers.Singleton(
        CachedKeyStore, key_store, maxsize=_keys.cache_size, ttl_s=_keys.cache_ttl_s
    )
    authenticator = providers.Singleton(
        Authenticator,
        store=cached_keys,
        hasher=key_hasher,
        master_key=settings.provided.security.master_key,
        anonymous=providers.Callable(anonymous_principal, settings),
        timeout_s=_keys.timeout_s,
    )
    team_store = providers.Singleton(team_store, settings)
    team_store_lifecycle = providers.Resource(open_team_store, team_store)
    limits_unavailable = providers.Callable(limits_unavailable, settings)
    # The audit log: admin changes, reloads, auth failures and refusals (signed checkpoints).
    audit_store = providers.Singleton(audit_setup.audit_store, settings)
    audit_trail = providers.Singleton(audit_setup.audit_trail, settings, audit_store)
    audit_lifecycle = providers.Resource(audit_setup.run_audit_trail, audit_trail, audit_store, settings)
    team_service = providers.Singleton(
        TeamService, store=team_store, limits_unavailable=limits_unavailable, audit=audit_trail
    )
    key_service = providers.Singleton(
        KeyService,
        store=cached_keys,
        hasher=key_hasher,
        teams=team_store,
        limits_unavailable=limits_unavailable,
        audit=audit_trail,
    )
    policy_engine = providers.Singleton(PolicyEngine.from_config, settings.provided.policy)
    quota_store = providers.Singleton(quota_store, settings)
    outage_monitor = providers.Singleton(
        OutageMonitor, policy=settings.provided.quota.on_outage, metrics=metrics
    )
    quota_store_lifecycle = providers.Resource(close_quota_store, quota_store, outage_monitor)
    quota_service = providers.Singleton(
        QuotaService,
        store=quota_store,
        config=providers.Callable(quota_config, settings),
        monitor=outage_monitor,
        prices=providers.Singleton(PriceBook.from_catalog, catalog),
        metrics=metrics,
    )
    spend_ledger = providers.Singleton(spend_ledger, settings, metrics)
    spend_ledger_lifecycle = providers.Resource(run_spend_ledger, spend_ledger)
    request_log = providers.Singleton(request_log_setup.request_log, settings, metrics)
    request_log_lifecycle = providers.Resource(request_log_setup.run_request_log, request_log)
    request_journal = providers.Singleton(request_log_setup.request_journal, settings, request_log)
    # The Responses API's stored responses (previous_response_id, retrieve, delete).
    response_store = providers.Singleton(responses_setup.response_store, settings)
    response_store_lifecycle = providers.Resource(responses_setup.run_response_store, response_store)
    # Feedback on calls (POST /v1/feedback, the evaluator's scores), joined to the request log.
    feedback_store = providers.Singleton(feedback_setup.feedback_store, settings)
    feedback_store_lifecycle = providers.Resource(feedback_setup.run_feedback_store, feedback_store)
    feedback = providers.Singleton(
        feedback_setup.feedback_service, settings, feedback_store, request_log, response_store, strategy
    )
    conversations = providers.Singleton(
        Conversations,
        response_store,
        ttl_s=settings.provided.responses.ttl_s,
        max_stored_bytes=settings.provided.responses.max_stored_bytes,
    )
    call_access = providers.Singleton(
        CallAccess,
        authenticator=authenticator,
        policy=policy_engine,
        quota=quota_service,
        catalog=catalog,
        teams=team_store,
        team_cache_ttl_s=_keys.cache_ttl_s,
        audit=audit_trail,
    )
    settlement = providers.Singleton(Settlement, quota=quota_service, spend=spend_ledger, metrics=metrics)
    http_reader = providers.Singleton(
        HttpRequestReader,
        trusted_proxies=providers.Callable(parse_networks, settings.provided.security.trusted_proxies),
    )

    model_routing = providers.Singleton(ModelRouting, settings, catalog, provider_clients)
    # Routed names served from the router registry follow its promotions (every worker polls).
    promotion_watcher = providers.Singleton(registry_setup.promotion_watcher, settings, model_routing)
    canary_judge = providers.Singleton(
        registry_setup.canary_judge, settings, model_routing, feedback_store, audit_trail
    )
    promotion_watcher_lifecycle = providers.Resource(
        registry_setup.run_promotion_watcher, promotion_watcher, canary_judge, settings
    )

    plugin_manager = providers.Singleton(
        PluginManager,
        providers.Callable(
            build_plugins,
            settings,
            providers.Callable(
                builtin_plugin_factory, metrics, catalog, provider_clients, stats, strategy, feedback
            ),
        ),
        allowed_capabilities=providers.Callable(allowed_capabilities, settings),
        metrics=metrics,
    )
    plugin_lifecycle = providers.Resource(run_plugins, plugin_manager)

    # The MCP gateway (/mcp): upstream MCP servers, opened in the lifespan (see mcp_setup).
    mcp_runtime = providers.Singleton(McpRuntime)
    mcp_lifecycle = providers.Resource(
        run_mcp,
        mcp_runtime,
        settings,
        call_access,
        policy_engine,
        metrics,
        spend=spend_ledger,
        teams=team_store,
        audit=audit_trail,
        request_log=request_log,
    )

    # Exploration: full-information routing data from a share of the routed calls (opt-in).
    explorer = providers.Singleton(
        exploration_setup.explorer, settings, gateway, catalog, model_routing, provider_clients
    )
    explorer_lifecycle = providers.Resource(exploration_setup.run_explorer, explorer)

    # The request use case every surface calls.
    calls = providers.Singleton(
        CallService,
        access=call_access,
        gateway=gateway,
        plugins=plugin_manager,
        settlement=settlement,
        routed=model_routing.provided.routed,
        tracer=tracer,
        journal=request_journal,
        explorer=explorer,
    )
    # Files and batches, passed through to their deployments; who owns which (see provider_objects).
    object_store = providers.Singleton(provider_objects_setup.object_store, settings)
    object_store_lifecycle = providers.Resource(provider_objects_setup.run_object_store, object_store)
    provider_objects = providers.Singleton(
        ProviderObjects, calls=calls, access=call_access, store=object_store, catalog=catalog
    )

    health_checks = providers.Callable(
        health_checks,
        plugin_manager,
        providers.Singleton(DeploymentsHealthCheck, catalog=catalog, breakers=breakers),
        providers.Singleton(QuotaHealthCheck, store=quota_store, monitor=outage_monitor),
        breaker_sync,
        affinity_store,
    )
    readiness = providers.Singleton(Readiness, lifecycle=lifecycle, checks=health_checks, version=__version__)
