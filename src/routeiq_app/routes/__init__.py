"""The admin API and health routes (the OpenAI API is a surface: :mod:`routeiq_app.surfaces.openai`).

``litellm_routes`` are LiteLLM proxy's management and health endpoints (``/key/*``, ``/team/*``,
``/spend/logs``, ``/health*``), on the same services and RBAC as the admin API. ``prometheus_metrics``
is ``GET /metrics``.
"""

from routeiq_app.routes.admin import deployments, metrics, reload_config, reload_router, routing_state
from routeiq_app.routes.admin_access import access_routes
from routeiq_app.routes.admin_audit import audit_routes
from routeiq_app.routes.admin_keys import key_routes
from routeiq_app.routes.admin_mcp import mcp_routes
from routeiq_app.routes.admin_requests import request_routes
from routeiq_app.routes.admin_routing import routing_routes
from routeiq_app.routes.admin_spend import spend_routes
from routeiq_app.routes.admin_system import system_routes
from routeiq_app.routes.admin_teams import team_routes
from routeiq_app.routes.feedback import feedback_routes
from routeiq_app.routes.health import live, ready
from routeiq_app.routes.litellm_access import litellm_access_routes
from routeiq_app.routes.litellm_health import litellm_health_routes
from routeiq_app.routes.litellm_keys import litellm_key_routes
from routeiq_app.routes.prometheus import prometheus_metrics

admin_routes = (
    deployments,
    metrics,
    reload_config,
    reload_router,
    routing_state,
    *key_routes,
    *team_routes,
    *access_routes,
    *request_routes,
    *audit_routes,
    *mcp_routes,
    *feedback_routes,
    *spend_routes,
    *routing_routes,
    *system_routes,
)

litellm_routes = (*litellm_health_routes, *litellm_key_routes, *litellm_access_routes)

__all__ = ["admin_routes", "litellm_routes", "live", "prometheus_metrics", "ready"]
