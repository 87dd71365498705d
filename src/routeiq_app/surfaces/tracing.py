"""What an HTTP request's server span says, and the client's W3C trace context, read from the scope."""

from __future__ import annotations

from types import MappingProxyType

from routeiq_app.asgi_types import Scope
from routeiq_core import span_names as attr
from routeiq_core.tracing import NOOP_SPAN, AttributeValue, Span

_TRACE_HEADERS = MappingProxyType({b"traceparent": "traceparent", b"tracestate": "tracestate"})
_MAX_HEADER = 512
"""Longest trace header read (a W3C traceparent is 55 characters; tracestate is capped at 512)."""


def trace_headers(scope: Scope) -> dict[str, str] | None:
    """The client's ``traceparent`` / ``tracestate`` headers, if it sent them."""
    found: dict[str, str] | None = None
    for name, value in scope.get("headers", ()):
        key = _TRACE_HEADERS.get(name)
        if key is not None and len(value) <= _MAX_HEADER:
            found = found or {}
            found[key] = value.decode("latin-1")
    return found


def server_attributes(scope: Scope, route: str | None) -> dict[str, AttributeValue]:
    """The HTTP server span's attributes known before the response."""
    found: dict[str, AttributeValue] = {
        attr.HTTP_METHOD: scope.get("method", ""),
        attr.URL_PATH: scope.get("path", ""),
        attr.URL_SCHEME: scope.get("scheme", "http"),
    }
    if route is not None:
        found[attr.HTTP_ROUTE] = route
    client = scope.get("client")
    if client:
        found[attr.CLIENT_ADDRESS] = str(client[0])
    request_id = scope.get("state", {}).get("request_id")
    if request_id:
        found[attr.REQUEST_ID] = request_id
    for name, value in scope.get("headers", ()):
        if name == b"user-agent":
            found[attr.USER_AGENT] = value[:_MAX_HEADER].decode("latin-1")
            break
    return found


def request_span(scope: Scope) -> Span:
    """The server span the router opened for this request (the no-op span when tracing is off)."""
    span: Span = scope.get("state", {}).get("span", NOOP_SPAN)
    return span
