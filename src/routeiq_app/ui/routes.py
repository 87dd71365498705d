"""``/ui``: the admin dashboard's files, and ``/ui/session``, who the signed-in key is.

The page holds the key in memory only and sends it as a bearer header on every admin API call, so
the admin API's own authentication and RBAC decide everything; ``/ui/session`` only tells the page
which of its buttons the key may use.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from routeiq_app.ui.assets import SECURITY_HEADERS, UiAssets
from routeiq_core.access import Principal
from routeiq_core.access.rbac import has_permission
from routeiq_core.errors import NotFoundError

DASHBOARD_PERMISSIONS = (
    "keys.read",
    "keys.write",
    "teams.read",
    "teams.write",
    "spend.read",
    "requests.read",
    "deployments.read",
    "metrics.read",
    "audit.log.read",
    "models.read",
    "llm.call",
    "config.read",
    "config.reload",
    "policy.explain",
    "mcp.servers.read",
)
"""The permissions the dashboard's screens and buttons depend on."""


class SessionView(msgspec.Struct, kw_only=True):
    """The signed-in key as the dashboard sees it (never its secret)."""

    kind: str
    role: str
    key_id: str | None
    team: str | None
    user: str | None
    permissions: list[str]


def session_view(principal: Principal) -> SessionView:
    """Who ``principal`` is and which dashboard permissions its role grants."""
    return SessionView(
        kind=principal.kind,
        role=principal.role,
        key_id=principal.key_id,
        team=principal.team,
        user=principal.user,
        permissions=[p for p in DASHBOARD_PERMISSIONS if has_permission(principal, p)],
    )


def asset_response(assets: UiAssets, path: str, headers: Mapping[str, str]) -> Response[bytes]:
    """The file at ``path``: gzipped when accepted, 304 when the client's copy is current."""
    asset = assets.get(path)
    if asset is None:
        raise NotFoundError(f"The dashboard has no file {path[:200]!r}; open /ui.")
    out = {
        **SECURITY_HEADERS,
        "cache-control": "no-cache",
        "etag": asset.etag,
        "vary": "Accept-Encoding",
    }
    if asset.etag in headers.get("if-none-match", ""):
        return Response(content=b"", status_code=304, headers=out)
    body = asset.body
    if "gzip" in headers.get("accept-encoding", ""):
        body = asset.gzipped
        out["content-encoding"] = "gzip"
    return Response(content=body, status_code=200, media_type=asset.content_type, headers=out)


def ui_routes(assets: UiAssets) -> tuple[HTTPRouteHandler, ...]:
    """The dashboard's handlers, serving ``assets``."""

    @get("/ui", include_in_schema=False, sync_to_thread=False)
    def index(request: Request) -> Response[bytes]:  # type: ignore[type-arg]
        """The dashboard's page."""
        return asset_response(assets, "index.html", request.headers)

    @get("/ui/{path:path}", include_in_schema=False, sync_to_thread=False)
    def asset(path: FromPath[str], request: Request) -> Response[bytes]:  # type: ignore[type-arg]
        """A file of the dashboard (``/ui/js/app.js``)."""
        name = path.lstrip("/") or "index.html"
        return asset_response(assets, name, request.headers)

    @get("/ui/session", include_in_schema=False, sync_to_thread=False)
    def session(principal: NamedDependency[Principal]) -> Response[SessionView]:
        """Role and permissions of the bearer key (401 for a wrong key), never cached."""
        return Response(
            content=session_view(principal), headers={**SECURITY_HEADERS, "cache-control": "no-store"}
        )

    return index, asset, session
