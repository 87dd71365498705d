"""The admin API and health routes (the OpenAI API is a surface: :mod:`routeiq_app.surfaces.openai`)."""

from routeiq_app.routes.admin import deployments, metrics, reload_config, reload_router, routing_state
from routeiq_app.routes.admin_access import access_routes
from routeiq_app.routes.admin_keys import key_routes
from routeiq_app.routes.admin_teams import team_routes
from routeiq_app.routes.health import live, ready

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

__all__ = ["admin_routes", "live", "ready"]
