"""The gateway's errors as JSON-RPC errors, with the HTTP status each one keeps."""

from __future__ import annotations

from routeiq_app.surfaces.mcp.wire import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    RESOURCE_NOT_FOUND,
    SERVER_ERROR,
    JsonRpcError,
)
from routeiq_core.errors import AuthenticationError, RouteIQError, UpstreamError
from routeiq_core.mcp import UnknownNameError


def rpc_error(exc: Exception) -> JsonRpcError:
    """The JSON-RPC error of a core exception.

    An unknown (or hidden) tool or prompt is ``-32602`` and an unknown resource ``-32002``, as the
    spec says, whatever the reason; refused keys keep their HTTP 401/403 (401 with
    ``WWW-Authenticate``), limits their 429 and ``Retry-After``; a failing upstream is ``-32603``
    naming it; anything else keeps its status under ``-32000``.
    """
    if isinstance(exc, JsonRpcError):
        return exc
    if isinstance(exc, UnknownNameError):
        if exc.kind == "resource":
            return JsonRpcError(RESOURCE_NOT_FOUND, "Resource not found", data={"uri": exc.name})
        return JsonRpcError(INVALID_PARAMS, exc.message)
    if isinstance(exc, UpstreamError):
        return JsonRpcError(INTERNAL_ERROR, exc.message)
    if isinstance(exc, RouteIQError):
        headers = dict(exc.headers)
        if isinstance(exc, AuthenticationError):
            headers.setdefault("WWW-Authenticate", 'Bearer realm="routeiq"')
        status = exc.status_code if exc.status_code in (401, 403, 413, 429, 503) else None
        return JsonRpcError(
            SERVER_ERROR,
            exc.message,
            status=status,
            data={"type": exc.error_type, "code": exc.code},
            headers=headers,
        )
    return JsonRpcError(INTERNAL_ERROR, "Internal error")
