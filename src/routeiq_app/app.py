"""The Litestar app factory."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

from litestar import Litestar, Request
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.types import ASGIApp as LitestarASGIApp

from routeiq_app.asgi_types import ASGIApp
from routeiq_app.container import Container
from routeiq_app.errors import exception_handlers
from routeiq_app.middleware import (
    AuditSourceMiddleware,
    BackpressureMiddleware,
    CorsMiddleware,
    DrainMiddleware,
    RequestIdMiddleware,
)
from routeiq_app.routes import admin_routes, litellm_routes, live, prometheus_metrics, ready
from routeiq_app.serving import install_worker_signals
from routeiq_app.settings import Settings
from routeiq_app.surfaces.anthropic import anthropic_descriptions, anthropic_routes
from routeiq_app.surfaces.mcp import MCP_PATH, McpEndpoint
from routeiq_app.surfaces.openai import (
    call_descriptions,
    get_model,
    list_models,
    object_routes,
    openai_routes,
)
from routeiq_app.surfaces.responses import responses_descriptions, responses_routes, stored_response_routes
from routeiq_app.surfaces.router import SurfaceRouter
from routeiq_app.ui import UiAssets, ui_routes
from routeiq_core import __version__
from routeiq_core.access import Principal
from routeiq_core.surfaces import ANTHROPIC_SURFACE, MCP_SURFACE, OPENAI_SURFACE, RESPONSES_SURFACE

logger = logging.getLogger("routeiq.app")


def _provide(provider: Callable[[], Any]) -> Provide:
    """Bridge a container provider into a Litestar dependency (resolved per request, never cached)."""

    def dependency() -> Any:
        return provider()

    return Provide(dependency, sync_to_thread=False, use_cache=False)


def create_app(container: Container | None = None) -> Litestar:
    """Build the gateway app around ``container`` (a new one from the environment when None).

    Middleware, outermost first: request id, CORS, drain (hand-over on reload, refusal on shutdown),
    backpressure, then the surfaces' router (call paths straight to their handlers) and Litestar's
    exception handling and routing for the rest; so every response, including a shed 503 and a
    404, carries ``X-Request-ID`` and CORS.
    """
    container = container or Container()
    settings: Settings = container.settings()

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        initialised = container.init_resources()
        if initialised is not None:
            await initialised
        # Startup objects live as long as the process: keep them out of every later GC pass.
        gc.collect()
        gc.freeze()
        container.lifecycle().mark_ready()
        install_worker_signals(container.lifecycle(), container.plugin_manager().on_config_reload)
        logger.info("routeiq %s ready", __version__)
        try:
            yield
        finally:
            container.lifecycle().mark_draining()
            closed = container.shutdown_resources()
            if closed is not None:
                await closed
            container.lifecycle().mark_stopped()

    reader = container.http_reader()
    access = container.call_access()
    call_routes = openai_routes(container.calls(), reader, settings.server.max_request_body_bytes)
    object_calls, object_items = object_routes(  # files and batches: /v1/files, /v1/files/{id}, ...
        container.provider_objects(),
        reader,
        max_upload_bytes=settings.files.max_upload_bytes,
        max_body_bytes=settings.server.max_request_body_bytes,
    )
    call_routes = {**call_routes, **object_calls}
    messages_routes = anthropic_routes(container.calls(), reader, settings.server.max_request_body_bytes)
    create_routes = responses_routes(
        container.calls(), access, container.conversations(), reader, settings.server.max_request_body_bytes
    )

    mcp_endpoint = McpEndpoint(
        container.mcp_runtime(),
        reader,
        max_body_bytes=settings.server.max_request_body_bytes,
        allowed_origins=settings.mcp.allowed_origins,
    )

    async def principal(request: Request) -> Principal:  # type: ignore[type-arg]
        return await access.identify(reader.credentials(request.scope))  # type: ignore[arg-type]

    app = Litestar(
        route_handlers=[
            live,
            ready,
            prometheus_metrics,
            list_models,
            get_model,
            *admin_routes,
            *litellm_routes,
            *call_descriptions,
            *anthropic_descriptions,
            *responses_descriptions,
            *stored_response_routes,
            *ui_routes(UiAssets.from_package()),
        ],
        dependencies={
            "readiness": _provide(container.readiness),
            "catalog": _provide(container.catalog),
            "principal": Provide(principal, use_cache=False),
            "key_service": _provide(container.key_service),
            "key_store": _provide(container.key_store),
            "key_hasher": _provide(container.key_hasher),
            "team_service": _provide(container.team_service),
            "audit_trail": _provide(container.audit_trail),
            "policy_engine": _provide(container.policy_engine),
            "spend_ledger": _provide(container.spend_ledger),
            "request_log": _provide(container.request_log),
            "feedback": _provide(container.feedback),
            "call_access": _provide(container.call_access),
            "http_reader": _provide(container.http_reader),
            "conversations": _provide(container.conversations),
            "model_routing": _provide(container.model_routing),
            "promotion_watcher": _provide(container.promotion_watcher),
            "breakers": _provide(container.breakers),
            "metrics": _provide(container.memory_metrics),
            "stats": _provide(container.stats),
            "selected_strategy": _provide(container.selected_strategy),
            "limiter": _provide(container.limiter),
            "node_metrics": _provide(container.node_metrics),
            "mcp_runtime": _provide(container.mcp_runtime),
            "settings": Provide(lambda: settings, sync_to_thread=False),
            "plugin_manager": _provide(container.plugin_manager),
            "node_history": _provide(container.node_history),
            "metrics_public": Provide(lambda: settings.observability.metrics_public, sync_to_thread=False),
        },
        exception_handlers=exception_handlers(),
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(title="RouteIQ", version=__version__, path="/schema"),
        logging_config=None,
        debug=False,
    )
    app.state.container = container
    routed = SurfaceRouter(
        AuditSourceMiddleware(cast(ASGIApp, app.asgi_handler), reader),
        {**call_routes, **messages_routes, **create_routes, MCP_PATH: mcp_endpoint},
        container.metrics(),
        {
            **dict.fromkeys(call_routes, OPENAI_SURFACE),
            **dict.fromkeys(messages_routes, ANTHROPIC_SURFACE),
            **dict.fromkeys(create_routes, RESPONSES_SURFACE),
            MCP_PATH: MCP_SURFACE,
        },
        tracer=container.tracer(),
        prefixes=object_items,
    )
    wrapped = _wrap(routed, container, settings)
    app.asgi_handler = cast(LitestarASGIApp, wrapped)
    return app


def _wrap(inner: ASGIApp, container: Container, settings: Settings) -> ASGIApp:
    retry_after = settings.server.shed_retry_after_s
    handler: ASGIApp = BackpressureMiddleware(inner, container.limiter(), retry_after_s=retry_after)
    handler = DrainMiddleware(handler, container.lifecycle(), retry_after_s=retry_after)
    if settings.server.cors_origins:
        handler = CorsMiddleware(handler, settings.server.cors_origins)
    return RequestIdMiddleware(handler)
