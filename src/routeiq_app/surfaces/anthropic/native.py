"""The Messages surface's side of native forwarding: the client's body and headers out, its answer back.

A ``/v1/messages`` call carries the client's body as decoded (every field, known or not) beside its
chat translation; a deployment that speaks Messages gets that body, and its answer (a message, or
the event sequence) goes back to the client byte for byte. Of the client's headers, only Anthropic's
protocol headers (``anthropic-version``, ``anthropic-beta``) travel with it, bounded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from routeiq_app.asgi_types import Scope
from routeiq_app.surfaces.anthropic.answers import AnthropicError, AnthropicErrorDetail, event_frame
from routeiq_app.surfaces.anthropic.errors import error_type
from routeiq_core.errors import UpstreamError
from routeiq_core.native import NativeProtocol, NativeRequest

FORWARDED_HEADERS = (b"anthropic-version", b"anthropic-beta")
UNFORWARDED = frozenset({"container", "mcp_servers"})
"""Upstream-account state a client must not name (a code-execution container, remote MCP servers)."""
MAX_HEADER_CHARS = 1024
"""Longest protocol header value forwarded (a longer or non-printable one is dropped)."""


def protocol_headers(scope: Scope) -> dict[str, str]:
    """The client's Anthropic protocol headers the upstream should see (bounded, printable ASCII)."""
    found: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        if name in FORWARDED_HEADERS and len(value) <= MAX_HEADER_CHARS and value.isascii():
            text = value.decode("ascii")
            if text.isprintable():
                found[name.decode("ascii")] = text
    return found


def native_request(body: dict[str, Any], headers: dict[str, str]) -> NativeRequest:
    """The client's Messages body as forwarded to a deployment that speaks Messages.

    Fields that name state held in the upstream account (:data:`UNFORWARDED`) are left out: the
    account is shared by every key, so one key must not reach another's.
    """
    if any(name in body for name in UNFORWARDED):
        body = {k: v for k, v in body.items() if k not in UNFORWARDED}
    return NativeRequest(protocol=NativeProtocol.MESSAGES, body=body, headers=headers)


async def native_events(frames: AsyncIterator[bytes], request_id: str | None) -> AsyncIterator[bytes]:
    """A forwarded stream's events as the upstream wrote them; a failure mid-way ends it with an ``error``."""
    try:
        async for chunk in frames:
            yield chunk
    except UpstreamError as exc:
        detail = AnthropicErrorDetail(type=error_type(exc.status_code), message=exc.message)
        yield event_frame(AnthropicError(error=detail, request_id=request_id))
