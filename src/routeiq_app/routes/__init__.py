"""HTTP route handlers, one module per API area."""

from routeiq_app.routes.admin import deployments, metrics, reload_config, reload_router, routing_state
from routeiq_app.routes.admin_access import access_routes
from routeiq_app.routes.admin_keys import key_routes
from routeiq_app.routes.admin_teams import team_routes
from routeiq_app.routes.health import live, ready
from routeiq_app.routes.models import get_model, list_models
from routeiq_app.routes.openai import openai_routes

admin_routes = (
    deployments,
    metrics,
    reload_config,
    reload_router,
    routing_state,
    *key_routes,
    *team_routes,
    *access_routes,
)

__all__ = ["admin_routes", "get_model", "list_models", "live", "openai_routes", "ready"]
