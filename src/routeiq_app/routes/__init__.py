"""HTTP route handlers, one module per API area."""

from routeiq_app.routes.health import live, ready

__all__ = ["live", "ready"]
