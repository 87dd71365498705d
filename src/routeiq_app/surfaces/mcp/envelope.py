"""What a POST must look like before it is dispatched: its era, its JSON-RPC shape, its envelope."""

from __future__ import annotations

from typing import Any

import msgspec

from routeiq_app.surfaces.mcp.dispatch import Era
from routeiq_app.surfaces.mcp.wire import (
    CLIENT_CAPABILITIES_META,
    CURRENT_VERSIONS,
    HEADER_MISMATCH,
    INVALID_PARAMS,
    INVALID_REQUEST,
    LEGACY_VERSIONS,
    NAME_FIELDS,
    PROTOCOL_VERSION_META,
    SUPPORTED_VERSIONS,
    UNSUPPORTED_VERSION,
    Headers,
    JsonRpcError,
    Message,
)

_MAX_ID_LENGTH = 256


def era_of(headers: Headers) -> Era:
    """The era of a request by its ``MCP-Protocol-Version`` (none: legacy, as older clients send none).

    Raises:
        JsonRpcError: 400 ``-32022`` naming the supported revisions for any other value; 400
            ``-32020`` when a routing header is sent twice.
    """
    if headers.duplicated is not None:
        raise JsonRpcError(
            HEADER_MISMATCH, f"The {headers.duplicated} header is sent more than once.", status=400
        )
    version = headers.version
    if version is None or version in LEGACY_VERSIONS:
        return "legacy"
    if version in CURRENT_VERSIONS:
        return "current"
    raise JsonRpcError(
        UNSUPPORTED_VERSION,
        "Unsupported protocol version",
        status=400,
        data={"supported": list(SUPPORTED_VERSIONS), "requested": version},
    )


def check_message(message: Message) -> None:
    """400 ``-32600`` unless ``message`` is one JSON-RPC 2.0 request, notification or response."""
    if message.jsonrpc != "2.0":
        raise JsonRpcError(INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0".', status=400)
    has_id = message.id is not msgspec.UNSET
    if has_id and not _valid_id(message.id):
        raise JsonRpcError(
            INVALID_REQUEST, "Invalid Request: the id must be a string or an integer.", status=400
        )
    if message.method is msgspec.UNSET:
        answered = message.result is not msgspec.UNSET or message.error is not msgspec.UNSET
        if not (has_id and answered):
            raise JsonRpcError(INVALID_REQUEST, "Invalid Request: no method, and not a response.", status=400)
        return
    if not isinstance(message.method, str) or not message.method:
        raise JsonRpcError(INVALID_REQUEST, "Invalid Request: the method must be a string.", status=400)
    if message.params is not msgspec.UNSET and not isinstance(message.params, dict):
        raise JsonRpcError(INVALID_PARAMS, "Invalid params: params must be an object.", status=400)


def _valid_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and len(value) <= _MAX_ID_LENGTH)


def check_envelope(message: Message, headers: Headers) -> None:
    """The current era's checks of a request: its ``_meta`` envelope, then its headers against it.

    Raises:
        JsonRpcError: 400 ``-32602`` for a missing envelope, 400 ``-32020`` for a header that does
            not match the body.
    """
    params = message.params if isinstance(message.params, dict) else {}
    meta = params.get("_meta")
    if not isinstance(meta, dict):
        raise JsonRpcError(
            INVALID_PARAMS,
            f"params._meta must be an object with {PROTOCOL_VERSION_META!r} and {CLIENT_CAPABILITIES_META!r}",
            status=400,
        )
    missing = [key for key in (PROTOCOL_VERSION_META, CLIENT_CAPABILITIES_META) if key not in meta]
    if missing:
        raise JsonRpcError(INVALID_PARAMS, f"params._meta lacks {', '.join(missing)}", status=400)
    if headers.version != meta[PROTOCOL_VERSION_META]:
        raise JsonRpcError(HEADER_MISMATCH, "MCP-Protocol-Version does not match params._meta", status=400)
    if headers.method != message.method:
        raise JsonRpcError(HEADER_MISMATCH, "Mcp-Method does not match the body's method", status=400)
    field = NAME_FIELDS.get(message.method)
    if field is not None and params.get(field) is not None and headers.name != params.get(field):
        raise JsonRpcError(HEADER_MISMATCH, f"Mcp-Name does not match the body's {field!r}", status=400)
