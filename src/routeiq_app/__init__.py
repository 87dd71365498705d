"""RouteIQ app: composition (container, settings) and delivery (Litestar app, CLI)."""

from routeiq_app.app import create_app
from routeiq_app.container import Container

__all__ = ["Container", "create_app"]
