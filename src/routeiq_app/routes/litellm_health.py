"""LiteLLM's health endpoints on RouteIQ's probes and circuit breakers.

``/health/liveliness`` (and ``/health/liveness``) and ``/health/readiness`` are unauthenticated probes
with the semantics of ``/health/live`` and ``/health/ready``; ``/health`` is model health for operators.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from urllib.parse import urlsplit

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency

from routeiq_app.routes.health import probe_response
from routeiq_core import __version__
from routeiq_core.access import Principal, require
from routeiq_core.catalog import Deployment, ModelCatalog
from routeiq_core.health import ComponentHealth, HealthStatus, Readiness
from routeiq_core.resilience import BreakerRegistry

_LITELLM_STATUS: Mapping[HealthStatus, str] = MappingProxyType(
    {"ok": "healthy", "degraded": "degraded", "down": "unhealthy"}
)
_ALIVE = msgspec.json.encode("I'm alive!")


class LiteLLMReadiness(msgspec.Struct, kw_only=True):
    """Readiness shaped like LiteLLM's, with RouteIQ's honest values and its component detail."""

    status: str
    db: str
    cache: str
    routeiq_version: str
    phase: str
    components: list[ComponentHealth]


class EndpointHealth(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One deployment in ``/health``: what it calls (never its API key) and its breaker."""

    model: str
    model_name: str
    model_id: str
    api_base: str | None
    breaker: str
    consecutive_failures: int
    retry_after_s: float
    error: str | None = None


class ModelHealth(msgspec.Struct, kw_only=True):
    """LiteLLM's ``/health`` answer."""

    healthy_endpoints: list[EndpointHealth]
    unhealthy_endpoints: list[EndpointHealth]
    healthy_count: int
    unhealthy_count: int


@get(
    ["/health/liveliness", "/health/liveness"],
    summary="LiteLLM liveness: the process is up",
    tags=["health", "litellm"],
    sync_to_thread=False,
)
def liveliness() -> Response[bytes]:
    """``"I'm alive!"`` (a JSON string) with 200 while the process runs, like ``/health/live``.

    Also while draining (LiteLLM answers 503 then): shutting down is readiness's business.
    """
    return Response(content=_ALIVE, media_type="application/json")


@get("/health/readiness", summary="LiteLLM readiness", tags=["health", "litellm"])
async def readiness_probe(readiness: NamedDependency[Readiness]) -> Response[bytes]:
    """The verdict of ``/health/ready`` (503 when not ready) in LiteLLM's shape.

    ``status`` is ``healthy``, ``degraded`` (still serving) or ``unhealthy`` (503). ``db`` and
    ``cache`` are ``not checked``: RouteIQ's readiness does not probe the key database, and what it
    does check is listed in ``components``. The version is ``routeiq_version`` (LiteLLM's
    ``litellm_version`` would not be true here).
    """
    report = await readiness.report()
    body = LiteLLMReadiness(
        status=_LITELLM_STATUS[report.status],
        db="not checked",
        cache="not checked",
        routeiq_version=__version__,
        phase=report.phase,
        components=report.components,
    )
    return probe_response(body, ready=report.ready)


@get("/health", summary="LiteLLM model health (from circuit breakers)", tags=["health", "litellm"])
async def model_health(
    catalog: NamedDependency[ModelCatalog],
    breakers: NamedDependency[BreakerRegistry],
    principal: NamedDependency[Principal],
) -> ModelHealth:
    """Every deployment, healthy or not by this worker's circuit breaker (``deployments.read``).

    Unlike LiteLLM, no request is sent to any upstream: a deployment is unhealthy when its breaker
    lets no traffic through (open after repeated failures, or half-open with its probe in flight),
    the rule of the ``deployments`` readiness check; healthy means not known to be failing, so one
    never called yet is healthy. Breakers are per worker, shared between workers only when breaker
    sync (Redis) is configured. API keys are never shown; ``api_base`` loses any credentials, query
    and fragment.
    """
    require(principal, "deployments.read")
    healthy: list[EndpointHealth] = []
    unhealthy: list[EndpointHealth] = []
    for group in catalog.groups:
        for deployment in group.deployments:
            breaker = breakers.get(deployment.id)
            available, retry_after_s = breaker.available(), round(breaker.retry_after_s(), 3)
            endpoint = EndpointHealth(
                model=deployment.upstream_model,
                model_name=group.name,
                model_id=deployment.id,
                api_base=safe_api_base(deployment),
                breaker=breaker.state.value,
                consecutive_failures=breaker.consecutive_failures,
                retry_after_s=retry_after_s,
                error=None
                if available
                else f"circuit breaker {breaker.state.value} after {breaker.consecutive_failures} "
                f"consecutive failures; next probe in {retry_after_s:g}s",
            )
            (healthy if available else unhealthy).append(endpoint)
    return ModelHealth(
        healthy_endpoints=healthy,
        unhealthy_endpoints=unhealthy,
        healthy_count=len(healthy),
        unhealthy_count=len(unhealthy),
    )


def safe_api_base(deployment: Deployment) -> str | None:
    """The deployment's base URL without user info, query or fragment (where credentials hide)."""
    if not deployment.api_base:
        return None
    try:
        parts = urlsplit(deployment.api_base)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return None
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else None


litellm_health_routes = (liveliness, readiness_probe, model_health)
