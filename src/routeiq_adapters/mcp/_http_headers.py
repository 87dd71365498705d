"""Request headers and HTTP-status errors of the Streamable HTTP upstream adapter."""

from __future__ import annotations

import re
from collections.abc import Mapping

from routeiq_adapters.mcp._http_exchange import Answer
from routeiq_core.errors import UpstreamError
from routeiq_core.mcp import CURRENT_ERA

__all__ = ["HeaderBuilder", "status_error"]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(r"[\x20-\x7e]*")
_OURS = frozenset(
    {
        "accept",
        "content-type",
        "mcp-protocol-version",
        "mcp-session-id",
        "mcp-method",
        "mcp-name",
        "content-length",
    }
)
_FORWARDED_PREFIX = "mcp-param-"


class HeaderBuilder:
    """Builds the headers of every request to one upstream.

    The configured static headers (the upstream's credentials) come first; protocol headers are the
    adapter's own and cannot be overridden by config or by a client. Of a call's extra headers only
    well-formed ``Mcp-Param-*`` ones are forwarded, so a client cannot replace the credentials.

    Args:
        static: Headers from config (secrets already resolved).
    """

    def __init__(self, static: Mapping[str, str]) -> None:
        self._static = {k: v for k, v in static.items() if k.lower() not in _OURS}

    def build(
        self,
        *,
        version: str | None,
        session: str | None = None,
        method: str | None = None,
        name: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """The headers of one POST (or DELETE).

        Args:
            version: The ``MCP-Protocol-Version`` (None before a legacy handshake).
            session: The legacy ``Mcp-Session-Id``.
            method: The JSON-RPC method (sent as ``Mcp-Method`` in the current era).
            name: The ``Mcp-Name`` value (current era).
            extra: The call's extra headers (only ``Mcp-Param-*`` ones are kept).
        """
        headers = dict(self._static)
        for key, value in (extra or {}).items():
            lowered = key.lower()
            if lowered.startswith(_FORWARDED_PREFIX) and _TOKEN.fullmatch(key) and _VALUE.fullmatch(value):
                headers[key] = value
        headers["Accept"] = "application/json, text/event-stream"
        headers["Content-Type"] = "application/json"
        if version is not None:
            headers["MCP-Protocol-Version"] = version
        if session is not None:
            headers["Mcp-Session-Id"] = session
        if version == CURRENT_ERA and method is not None:
            headers["Mcp-Method"] = method
            if name is not None:
                headers["Mcp-Name"] = name
        return headers


def status_error(upstream: str, answer: Answer) -> UpstreamError:
    """The error for an answer that carries no response to our request.

    The upstream's own error message is quoted (shortened) when it sent a JSON-RPC error without an
    id; nothing of the request (URL, headers) is.
    """
    status = answer.status
    if 200 <= status < 300:
        kind = answer.content_type or "no body"
        return UpstreamError(
            f"MCP upstream {upstream!r} answered HTTP {status} ({kind}) without a JSON-RPC response"
        )
    detail = ""
    error = answer.response.error if answer.response is not None else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        detail = ": " + error["message"][:200]
    return UpstreamError(
        f"MCP upstream {upstream!r} answered HTTP {status}{detail}", retryable=status == 429 or status >= 500
    )
