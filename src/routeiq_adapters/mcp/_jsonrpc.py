"""JSON-RPC helpers the MCP upstream adapters share: framing, reading answers, protocol constants.

Results stay :class:`msgspec.Raw`: the adapters look at the envelope (``id``, ``method``, ``error``)
and never re-encode what the upstream sent.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import msgspec

from routeiq_core.errors import UpstreamError
from routeiq_core.mcp import CURRENT_ERA, LEGACY_ERA, UpstreamReply, UpstreamSession

__all__ = [
    "HANDSHAKE_VERSIONS",
    "UNSUPPORTED_VERSION",
    "Incoming",
    "answers",
    "cancelled_params",
    "decode_message",
    "encode_notification",
    "encode_request",
    "envelope_params",
    "header_value",
    "initialize_params",
    "name_header",
    "reply_of",
    "session_from_discover",
    "session_from_initialize",
]

HANDSHAKE_VERSIONS = frozenset({"2024-11-05", "2025-03-26", "2025-06-18", LEGACY_ERA})
"""Revisions an ``initialize`` may negotiate."""
UNSUPPORTED_VERSION = -32022
"""The JSON-RPC code of an unsupported-protocol-version rejection."""

PROTOCOL_VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo"
CLIENT_CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"

_NAME_PARAM = MappingProxyType({"tools/call": "name", "prompts/get": "name", "resources/read": "uri"})
_HEADER_SAFE = re.compile(r"[\x20-\x7e]*")
_ENCODED = re.compile(r"=\?base64\?.*\?=")
_ENCODER = msgspec.json.Encoder()


class Incoming(msgspec.Struct, kw_only=True):
    """The envelope of one message from an upstream; ``result`` is kept as the upstream wrote it."""

    jsonrpc: Any = None
    id: Any = msgspec.UNSET
    method: Any = None
    params: Any = None
    result: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    error: Any = msgspec.UNSET

    @property
    def is_response(self) -> bool:
        """A response (to a request of ours or anyone's): an id, no method, a result or an error."""
        return self.method is None and (self.result is not msgspec.UNSET or self.error is not msgspec.UNSET)


_DECODER = msgspec.json.Decoder(Incoming)


class _Result(msgspec.Struct):
    protocolVersion: Any = None
    supportedVersions: Any = None
    capabilities: Any = None
    serverInfo: Any = None
    instructions: Any = None
    meta: Any = msgspec.field(default=None, name="_meta")


def decode_message(data: bytes, upstream: str) -> Incoming:
    """Read one JSON-RPC message.

    Raises:
        UpstreamError: The bytes are not one JSON-RPC 2.0 object.
    """
    try:
        message = _DECODER.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise UpstreamError(
            f"MCP upstream {upstream!r} sent something that is not a JSON-RPC message"
        ) from None
    if message.jsonrpc != "2.0":
        raise UpstreamError(f"MCP upstream {upstream!r} sent a message that is not JSON-RPC 2.0")
    return message


def answers(message: Incoming | None, request_id: int) -> bool:
    """Whether ``message`` is the response to our request ``request_id`` (ids are plain ints)."""
    return (
        message is not None and message.is_response and type(message.id) is int and message.id == request_id
    )


def reply_of(message: Incoming, upstream: str, session: str | None = None) -> UpstreamReply:
    """The :class:`UpstreamReply` a response carries.

    Raises:
        UpstreamError: The response has neither a result nor a well-formed error.
    """
    if message.error is not msgspec.UNSET:
        error = message.error
        if not isinstance(error, dict) or not isinstance(error.get("code"), int):
            raise UpstreamError(f"MCP upstream {upstream!r} answered with a malformed JSON-RPC error")
        return UpstreamReply(error=error, session=session)
    if isinstance(message.result, msgspec.UnsetType):
        raise UpstreamError(f"MCP upstream {upstream!r} answered with neither a result nor an error")
    return UpstreamReply(result=message.result, session=session)


def encode_request(request_id: int, method: str, params: Mapping[str, Any] | None) -> bytes:
    """One JSON-RPC request, compact (no newline inside, so it also frames for stdio)."""
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        body["params"] = params
    return _ENCODER.encode(body)


def encode_notification(method: str, params: Mapping[str, Any] | None) -> bytes:
    """One JSON-RPC notification, compact."""
    body: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        body["params"] = params
    return _ENCODER.encode(body)


def cancelled_params(request_id: int) -> dict[str, Any]:
    """Params of the ``notifications/cancelled`` for one of our requests."""
    return {"requestId": request_id, "reason": "the gateway's client cancelled the request"}


def initialize_params(client_info: Mapping[str, Any], capabilities: Mapping[str, Any]) -> dict[str, Any]:
    """Params of a legacy ``initialize`` offering :data:`LEGACY_ERA`."""
    return {
        "protocolVersion": LEGACY_ERA,
        "capabilities": dict(capabilities),
        "clientInfo": dict(client_info),
    }


def envelope_params(
    params: Mapping[str, Any] | None, client_info: Mapping[str, Any], capabilities: Mapping[str, Any]
) -> dict[str, Any]:
    """Params with the current era's per-request ``_meta`` envelope.

    The caller's ``_meta`` is kept; the envelope keys it lacks are added, and the protocol version is
    set to :data:`CURRENT_ERA` because it must equal the ``MCP-Protocol-Version`` header.
    """
    out = dict(params or {})
    given = out.get("_meta")
    meta: dict[str, Any] = dict(given) if isinstance(given, Mapping) else {}
    meta[PROTOCOL_VERSION_KEY] = CURRENT_ERA
    meta.setdefault(CLIENT_CAPABILITIES_KEY, dict(capabilities))
    meta.setdefault(CLIENT_INFO_KEY, dict(client_info))
    out["_meta"] = meta
    return out


def header_value(value: str) -> str:
    """A value as an HTTP header can carry it: verbatim when printable ASCII, else base64-wrapped."""
    if _HEADER_SAFE.fullmatch(value) and value == value.strip() and not _ENCODED.fullmatch(value):
        return value
    return "=?base64?" + base64.b64encode(value.encode()).decode("ascii") + "?="


def name_header(method: str, params: Mapping[str, Any] | None) -> str | None:
    """The ``Mcp-Name`` header of a request: the tool or prompt name, or the resource URI."""
    key = _NAME_PARAM.get(method)
    value = params.get(key) if key is not None and params is not None else None
    return header_value(value) if isinstance(value, str) else None


def _result_of(raw: msgspec.Raw, upstream: str) -> _Result:
    try:
        return msgspec.json.decode(raw, type=_Result)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise UpstreamError(
            f"MCP upstream {upstream!r} answered the handshake with a malformed result"
        ) from None


def _dict(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def session_from_initialize(raw: msgspec.Raw, session_id: str | None, upstream: str) -> UpstreamSession:
    """The session an ``initialize`` result describes.

    Raises:
        UpstreamError: The result is malformed or names a revision this gateway does not speak.
    """
    result = _result_of(raw, upstream)
    version = result.protocolVersion
    if version not in HANDSHAKE_VERSIONS:
        raise UpstreamError(f"MCP upstream {upstream!r} negotiated an unsupported protocol version")
    return UpstreamSession(
        session_id=session_id,
        protocol_version=version,
        capabilities=_dict(result.capabilities) or {},
        server_info=_dict(result.serverInfo),
        instructions=result.instructions if isinstance(result.instructions, str) else None,
    )


def session_from_discover(raw: msgspec.Raw, upstream: str) -> UpstreamSession | None:
    """The current-era description a ``server/discover`` result gives; None if it is not current-era."""
    result = _result_of(raw, upstream)
    versions = result.supportedVersions
    if not isinstance(versions, list) or CURRENT_ERA not in versions:
        return None
    meta = _dict(result.meta) or {}
    return UpstreamSession(
        session_id=None,
        protocol_version=CURRENT_ERA,
        capabilities=_dict(result.capabilities) or {},
        server_info=_dict(meta.get(SERVER_INFO_KEY)) or _dict(result.serverInfo),
        instructions=result.instructions if isinstance(result.instructions, str) else None,
    )
