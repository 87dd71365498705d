"""RouteIQ's errors in Anthropic's format: ``{"type": "error", "error": {"type", "message"}}``.

The one mapping of this surface: an error's HTTP status picks Anthropic's error type (a mid-stream
error frame, which carries no status, goes by its OpenAI-style type). Statuses stay RouteIQ's own,
so ``Retry-After`` and the SDK's retry decisions (429, 5xx) behave as on the OpenAI surface.
"""

from __future__ import annotations

import logging
from types import MappingProxyType

import msgspec

from routeiq_app.asgi_io import ClientDisconnected
from routeiq_app.surfaces.anthropic.answers import AnthropicError, AnthropicErrorDetail
from routeiq_core.errors import RouteIQError

logger = logging.getLogger("routeiq.http")

_BY_STATUS = MappingProxyType(
    {
        400: "invalid_request_error",
        401: "authentication_error",
        402: "billing_error",
        403: "permission_error",
        404: "not_found_error",
        408: "timeout_error",
        413: "request_too_large",
        429: "rate_limit_error",
        500: "api_error",
        503: "overloaded_error",
        504: "timeout_error",
        529: "overloaded_error",
    }
)
_STATUS_OF_TYPE = MappingProxyType(
    {
        "invalid_request_error": 400,
        "authentication_error": 401,
        "permission_error": 403,
        "rate_limit_error": 429,
        "timeout_error": 408,
        "service_unavailable_error": 503,
    }
)
"""The status an OpenAI-style error type stands for (an error frame in a stream has no status)."""
_HINTS = MappingProxyType(
    {"missing_api_key": " Send it as 'x-api-key: <key>' (or 'Authorization: Bearer <key>')."}
)
"""What an Anthropic client must do, added to the core's surface-neutral message."""


def error_type(status: int) -> str:
    """Anthropic's error type for an HTTP status (other 4xx: invalid request; other 5xx: API error)."""
    return _BY_STATUS.get(status) or ("invalid_request_error" if status < 500 else "api_error")


def error_type_of(openai_type: str | None) -> str:
    """Anthropic's error type for an OpenAI-style one (an error frame's ``type``)."""
    return error_type(_STATUS_OF_TYPE.get(openai_type or "", 500))


def error_body(kind: str, message: str, request_id: str | None) -> bytes:
    """An encoded Anthropic error body."""
    return msgspec.json.encode(
        AnthropicError(error=AnthropicErrorDetail(type=kind, message=message), request_id=request_id)
    )


def error_response(exc: Exception, request_id: str | None) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """The status, body and headers answering ``exc`` (an unexpected error is logged: a 500).

    ``request_id`` is quoted in the body; the ``request-id`` header is the handler's to add.
    """
    headers: list[tuple[bytes, bytes]] = []
    if isinstance(exc, RouteIQError):
        status, message = exc.status_code, exc.message + _HINTS.get(exc.code or "", "")
        headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1", "replace")) for k, v in exc.headers.items()
        ]
    elif isinstance(exc, ClientDisconnected):
        status = 400
        message = "The request body could not be read: the connection closed or the body was malformed."
    else:
        logger.error("unhandled error on the Anthropic surface", exc_info=exc)
        status = 500
        message = f"Internal server error. Quote request id {request_id} when reporting it."
    return status, error_body(error_type(status), message, request_id), headers
