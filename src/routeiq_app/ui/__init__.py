"""The admin dashboard: plain ES modules and CSS served at ``/ui`` from this package's ``static``."""

from routeiq_app.ui.assets import CONTENT_SECURITY_POLICY, UiAssets
from routeiq_app.ui.routes import session_view, ui_routes

__all__ = ["CONTENT_SECURITY_POLICY", "UiAssets", "session_view", "ui_routes"]
