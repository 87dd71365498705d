"""The current era's per-request envelope in ``params._meta``, adjusted for each upstream hop.

A current-era client sends its protocol version, capabilities and info in every request's
``_meta``. They describe the client's hop, not the upstream's: a handshake-era upstream refuses
requests that carry them, and a current-era upstream must get the version its adapter speaks (the
adapter adds it) but the *client's* capabilities, so it only asks for what the client can answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routeiq_core.mcp.upstream import CURRENT_ERA

__all__ = [
    "CLIENT_CAPABILITIES_KEY",
    "CLIENT_INFO_KEY",
    "ENVELOPE_KEYS",
    "PROTOCOL_VERSION_KEY",
    "for_upstream",
]

PROTOCOL_VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
CLIENT_CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo"
ENVELOPE_KEYS = frozenset({PROTOCOL_VERSION_KEY, CLIENT_CAPABILITIES_KEY, CLIENT_INFO_KEY})


def for_upstream(
    params: dict[str, Any], era: str | None, client_capabilities: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``params`` as an upstream of ``era`` must see them.

    Current era: the client's envelope without its protocol version, and the client's capabilities
    (``client_capabilities``, a legacy client's, when the request carries none). Any other era: no
    envelope at all. Everything else in ``_meta`` (``traceparent``, progress tokens) is kept.
    """
    meta = params.get("_meta")
    meta = dict(meta) if isinstance(meta, dict) else {}
    if era == CURRENT_ERA:
        meta.pop(PROTOCOL_VERSION_KEY, None)
        if client_capabilities is not None:
            meta.setdefault(CLIENT_CAPABILITIES_KEY, dict(client_capabilities))
    else:
        for key in ENVELOPE_KEYS:
            meta.pop(key, None)
    if meta:
        return {**params, "_meta": meta}
    return {key: value for key, value in params.items() if key != "_meta"}
