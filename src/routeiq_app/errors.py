"""The one place where errors become OpenAI-style responses (Litestar's handlers and the surfaces' router).

Body shape: ``{"error": {"message": ..., "type": ..., "param": ..., "code": ...}}``.
"""

from __future__ import annotations

import logging
from types import MappingProxyType
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from routeiq_core.errors import RouteIQError

logger = logging.getLogger("routeiq.errors")


class ErrorDetail(msgspec.Struct, kw_only=True):
    """The inner object of an OpenAI-style error body."""

    message: str
    type: str
    param: str | None = None
    code: str | int | None = None


class ErrorBody(msgspec.Struct, kw_only=True):
    """An OpenAI-style error body."""

    error: ErrorDetail


def error_body(message: str, error_type: str, *, param: str | None = None, code: str | None = None) -> bytes:
    """Encode an OpenAI-style error body."""
    return msgspec.json.encode(
        ErrorBody(error=ErrorDetail(message=message, type=error_type, param=param, code=code))
    )


def _json(status: int, body: bytes, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(content=body, status_code=status, media_type="application/json", headers=headers)


_HTTP_HINTS = MappingProxyType(
    {"missing_api_key": " Send it as 'Authorization: Bearer <key>' (or 'x-litellm-api-key: <key>')."}
)
"""What an HTTP client must do, added to the core's surface-neutral message."""


def routeiq_error_body(exc: RouteIQError) -> bytes:
    """The body of a core error's response (its status and headers are the error's own)."""
    message = exc.message + _HTTP_HINTS.get(exc.code or "", "")
    return error_body(message, exc.error_type, param=exc.param, code=exc.code)


UNREADABLE_BODY = error_body(
    "The request body could not be read: the connection closed or the body was malformed.",
    "invalid_request_error",
    code="unreadable_body",
)


def unexpected_error_body(request_id: str | None) -> bytes:
    """The body of a 500: no traceback, the request id to quote."""
    message = f"Internal server error. Quote request id {request_id} when reporting it."
    return error_body(message, "api_error", code="internal_error")


def handle_routeiq_error(_: Request[Any, Any, Any], exc: RouteIQError) -> Response[bytes]:
    """Map a core error to its status, type and headers."""
    return _json(exc.status_code, routeiq_error_body(exc), exc.headers or None)


_HTTP_TYPES = MappingProxyType(
    {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}
)
_HTTP_CODES = MappingProxyType({404: "not_found", 405: "method_not_allowed", 413: "request_too_large"})


_BODY_LOST = "client disconnected prematurely"
"""Litestar's message when the body could not be read (the client left, or sent a malformed body)."""


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    """Map Litestar's HTTP exceptions (404, 405, body validation) to OpenAI-style bodies."""
    if exc.detail == _BODY_LOST:  # not a server error: the request body never arrived whole
        return _json(400, UNREADABLE_BODY)
    status = exc.status_code
    message = exc.detail
    param = None
    if status == 404:
        message = f"No route for {request.method} {request.url.path}. See /schema for the API."
    elif isinstance(exc, ValidationException):
        message, param = _validation_message(exc)
    error_type = _HTTP_TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")
    headers = dict(exc.headers or {})
    return _json(status, error_body(message, error_type, param=param, code=_HTTP_CODES.get(status)), headers)


def _validation_message(exc: ValidationException) -> tuple[str, str | None]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    details = [e for e in extra if isinstance(e, dict)]
    if not details:
        return f"Invalid request: {exc.detail}", None
    first = details[0]
    key = first.get("key")
    parts = [f"{d.get('key') or 'body'}: {d.get('message')}" for d in details]
    return "Invalid request: " + "; ".join(parts), str(key) if key else None


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """Log an unhandled exception with its traceback; answer 500 without one."""
    request_id = request.scope.get("state", {}).get("request_id")
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return _json(500, unexpected_error_body(request_id))


def exception_handlers() -> ExceptionHandlersMap:
    """The app-level handlers, most specific first."""
    return {
        RouteIQError: handle_routeiq_error,
        HTTPException: handle_http_exception,
        Exception: handle_unexpected,
    }
