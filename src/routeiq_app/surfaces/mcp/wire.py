"""The MCP wire: JSON-RPC framing, error codes and their HTTP statuses, and the request's headers.

Messages are forwarded as raw JSON (``msgspec.Raw``): fields the gateway does not model reach the
client unchanged. Only envelopes and the few fields the gateway reads are decoded.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import msgspec

from routeiq_core.mcp import CURRENT_ERA, LEGACY_ERA
from routeiq_core.sse import named_frame

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000
"""Implementation-defined errors (refused key, rate limit, failing upstream): -32000..-32019."""
SESSION_NOT_FOUND = -32001
RESOURCE_NOT_FOUND = -32002
HEADER_MISMATCH = -32020
MISSING_CAPABILITY = -32021
UNSUPPORTED_VERSION = -32022

CURRENT_VERSIONS = (CURRENT_ERA,)
"""The sessionless revisions served (per-request envelope)."""
LEGACY_VERSIONS = (LEGACY_ERA, "2025-06-18", "2025-03-26")
"""The session revisions served, newest first (an ``initialize`` offering another gets the newest)."""
SUPPORTED_VERSIONS = (*CURRENT_VERSIONS, *LEGACY_VERSIONS)
DEFAULT_LEGACY_VERSION = "2025-03-26"
"""The revision of a legacy request without ``MCP-Protocol-Version`` (as the spec says)."""

CURRENT_STATUS = MappingProxyType(
    {
        PARSE_ERROR: 400,
        INVALID_REQUEST: 400,
        INVALID_PARAMS: 400,
        HEADER_MISMATCH: 400,
        MISSING_CAPABILITY: 400,
        UNSUPPORTED_VERSION: 400,
        METHOD_NOT_FOUND: 404,
    }
)
"""HTTP status of a JSON-RPC error in the current era (others: 200)."""

PROTOCOL_VERSION_META = "io.modelcontextprotocol/protocolVersion"
CLIENT_CAPABILITIES_META = "io.modelcontextprotocol/clientCapabilities"
CLIENT_INFO_META = "io.modelcontextprotocol/clientInfo"
SERVER_INFO_META = "io.modelcontextprotocol/serverInfo"
UPSTREAMS_META = "io.routeiq/upstreams"

NAME_FIELDS = MappingProxyType({"tools/call": "name", "prompts/get": "name", "resources/read": "uri"})
"""Methods whose ``Mcp-Name`` header mirrors a params field."""

_B64_OPEN, _B64_CLOSE = "=?base64?", "?="
_encoder = msgspec.json.Encoder()


class Message(msgspec.Struct, kw_only=True):
    """A JSON-RPC message as far as the gateway reads it (params decoded, result/error kept raw)."""

    jsonrpc: Any = msgspec.UNSET
    id: Any = msgspec.UNSET
    method: Any = msgspec.UNSET
    params: Any = msgspec.UNSET
    result: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    error: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


decode_message = msgspec.json.Decoder(Message).decode


class JsonRpcError(Exception):
    """A JSON-RPC error to answer with, and its HTTP status.

    Args:
        code: The JSON-RPC error code.
        message: What went wrong, for the client.
        status: The HTTP status (None: the era's table, else 200).
        data: The error's ``data``.
        headers: Extra response headers (``Retry-After``, ``WWW-Authenticate``, ``Allow``).
    """

    def __init__(
        self,
        code: int,
        message: str,
        *,
        status: int | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data
        self.headers = dict(headers or {})


def error_body(request_id: Any, code: int, message: str, data: Any = None) -> bytes:
    """A JSON-RPC error response (``id`` null when the request's id is unknown)."""
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return _encoder.encode(
        {"jsonrpc": "2.0", "id": None if request_id is msgspec.UNSET else request_id, "error": error}
    )


def result_body(request_id: Any, result: bytes) -> bytes:
    """A JSON-RPC result response around the raw result JSON."""
    return b'{"jsonrpc":"2.0","id":' + _encoder.encode(request_id) + b',"result":' + result + b"}"


def raw_error_body(request_id: Any, error: bytes) -> bytes:
    """A JSON-RPC error response around a raw error object (an upstream's, forwarded)."""
    return b'{"jsonrpc":"2.0","id":' + _encoder.encode(request_id) + b',"error":' + error + b"}"


def sse_message(body: bytes) -> bytes:
    """One JSON-RPC message as an SSE ``message`` event."""
    return named_frame("message", body)


def with_fields(result: bytes, force: Mapping[str, Any] | None = None, **defaults: Any) -> bytes:
    """``result`` (a JSON object) with ``defaults`` where it lacks them and ``force`` in any case.

    When no key is forced and none of the defaults' names occurs in the text, the fields are spliced
    in front without decoding the result (the common case: a large tool result passes untouched).
    """
    body = result.strip()
    if not force and all(b'"' + key.encode() + b'"' not in body for key in defaults):
        extra = _encoder.encode(defaults)
        return extra if body == b"{}" or len(extra) == 2 else extra[:-1] + b"," + body[1:]
    obj = msgspec.json.decode(body)
    if not isinstance(obj, dict):
        return result
    return _encoder.encode({**{k: v for k, v in defaults.items() if k not in obj}, **obj, **(force or {})})


def header_value(value: str | None) -> str | None:
    """A header's text: ``=?base64?...?=`` values decoded (how clients send non-ASCII names)."""
    if value is None or not (value.startswith(_B64_OPEN) and value.endswith(_B64_CLOSE)):
        return value
    try:
        return base64.b64decode(value[len(_B64_OPEN) : -len(_B64_CLOSE)], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


class Headers(msgspec.Struct, kw_only=True):
    """The request headers the MCP surface reads, in one pass.

    Attributes:
        version: ``MCP-Protocol-Version``.
        method: ``Mcp-Method``.
        name: ``Mcp-Name`` (decoded).
        session: ``Mcp-Session-Id``.
        accept: ``Accept``.
        content_type: ``Content-Type``.
        origin: ``Origin``.
        host: ``Host``.
        routeiq_key: ``x-routeiq-api-key``.
        params: ``Mcp-Param-*`` headers, forwarded upstream.
        duplicated: A routing header sent more than once (its name), if any.
    """

    version: str | None = None
    method: str | None = None
    name: str | None = None
    session: str | None = None
    accept: str = ""
    content_type: str = ""
    origin: str | None = None
    host: str | None = None
    routeiq_key: str | None = None
    params: dict[str, str] = msgspec.field(default_factory=dict)
    duplicated: str | None = None


_ROUTING = MappingProxyType(
    {b"mcp-protocol-version": "version", b"mcp-method": "method", b"mcp-name": "name"}
)
_OTHER = MappingProxyType({b"mcp-session-id": "session", b"accept": "accept", b"content-type": "content_type",
          b"origin": "origin", b"host": "host", b"x-routeiq-api-key": "routeiq_key"})  # fmt: skip
_MAX_PARAM_HEADERS = 32


def read_headers(raw: Any) -> Headers:
    """The MCP headers of an ASGI header list."""
    found = Headers()
    seen: set[bytes] = set()
    for raw_name, raw_value in raw:
        name = raw_name.lower()
        value = raw_value.decode("latin-1")
        if name in _ROUTING:
            if name in seen:
                found.duplicated = name.decode()
            seen.add(name)
            setattr(found, _ROUTING[name], header_value(value) if name == b"mcp-name" else value)
        elif name in _OTHER:
            setattr(found, _OTHER[name], value)
        elif name.startswith(b"mcp-param-") and len(found.params) < _MAX_PARAM_HEADERS:
            found.params[raw_name.decode("latin-1")] = value
    return found


def accepts(accept: str, media_type: str) -> bool:
    """Whether an ``Accept`` header admits ``media_type`` (``*/*`` and ``type/*`` included)."""
    if not accept:
        return media_type == "application/json"
    major = media_type.split("/")[0]
    for part in accept.split(","):
        item = part.split(";")[0].strip().lower()
        if item in (media_type, "*/*", f"{major}/*"):
            return True
    return False
