"""``/mcp``: the Streamable HTTP endpoint, both protocol eras, chosen per request.

``MCP-Protocol-Version: 2026-07-28`` selects the current, sessionless era: each POST carries one
JSON-RPC message with its envelope in ``params._meta``, mirrored by the ``MCP-Protocol-Version``,
``Mcp-Method`` and ``Mcp-Name`` headers (checked against the body). Any legacy revision (or no
header) selects the session era: ``initialize`` mints a sealed ``Mcp-Session-Id`` that every later
request carries; ``DELETE`` ends it. Batches are refused in both (neither 2025-06-18 onwards nor
2026-07-28 allows them). ``GET`` (a standalone server stream) answers 405.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from types import MappingProxyType
from urllib.parse import urlsplit

import msgspec

from routeiq_app.asgi_io import PayloadTooLarge, read_body, send_json
from routeiq_app.asgi_types import Receive, Scope, Send
from routeiq_app.surfaces.http import HttpRequestReader
from routeiq_app.surfaces.mcp.dispatch import Dispatcher, Era, Exchange
from routeiq_app.surfaces.mcp.envelope import check_envelope, check_message, era_of
from routeiq_app.surfaces.mcp.runtime import McpRuntime
from routeiq_app.surfaces.mcp.wire import (
    INVALID_REQUEST,
    LEGACY_VERSIONS,
    PARSE_ERROR,
    SERVER_ERROR,
    SESSION_NOT_FOUND,
    Headers,
    JsonRpcError,
    Message,
    accepts,
    decode_message,
    error_body,
    read_headers,
)
from routeiq_core.calls import Credentials
from routeiq_core.errors import RouteIQError
from routeiq_core.mcp import Caller, LegacySession

logger = logging.getLogger("routeiq.mcp")

_ALLOW = MappingProxyType({"Allow": "POST, DELETE"})


class McpEndpoint:
    """The raw ASGI handler of ``/mcp``.

    Args:
        runtime: Holds the dispatcher that answers requests (503 until the app has started).
        reader: Reads the caller's key and address.
        max_body_bytes: Largest request body.
        allowed_origins: Browser origins allowed besides the endpoint's own (``*``: any).
    """

    def __init__(
        self,
        runtime: McpRuntime,
        reader: HttpRequestReader,
        *,
        max_body_bytes: int,
        allowed_origins: Sequence[str] = (),
    ) -> None:
        self._runtime = runtime
        self._reader = reader
        self._max_body = max_body_bytes
        self._origins = frozenset(origin.rstrip("/").lower() for origin in allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request on ``/mcp``."""
        headers = read_headers(scope.get("headers", ()))
        era: Era = "legacy"
        request_id: object = msgspec.UNSET
        if self._runtime.dispatcher is None:
            await send_json(send, 503, error_body(None, SERVER_ERROR, "The MCP gateway is starting; retry."))
            return
        try:
            self._check_origin(headers)
            method = scope.get("method", "")
            if method == "DELETE":
                await self._delete(scope, send, headers)
                return
            if method != "POST":
                raise JsonRpcError(
                    INVALID_REQUEST,
                    f"{method} is not served on /mcp; POST messages.",
                    status=405,
                    headers=_ALLOW,
                )
            message = await self._read(receive, headers)
            request_id = message.id
            era = era_of(headers)
            await self._post(scope, receive, send, headers, era, message)
        except (JsonRpcError, RouteIQError) as exc:
            status, body, extra = self._dispatcher.failure(era, request_id, exc)
            await send_json(send, status, body, extra)

    @property
    def _dispatcher(self) -> Dispatcher:
        dispatcher = self._runtime.dispatcher
        assert dispatcher is not None  # checked as each request arrives; never unset afterwards
        return dispatcher

    def _check_origin(self, headers: Headers) -> None:
        """403 for a browser origin that is neither loopback nor allowed (DNS rebinding, cross-site).

        The ``Host`` header proves nothing (a rebound name sends its own), so an origin is trusted
        only by name: a loopback host, or an entry of ``mcp.allowed_origins``.
        """
        origin = headers.origin
        if origin is None:
            return
        normalised = origin.rstrip("/").lower()
        if "*" in self._origins or normalised in self._origins or _loopback(normalised):
            return
        raise JsonRpcError(INVALID_REQUEST, f"The origin {origin!r} may not call this server.", status=403)

    async def _read(self, receive: Receive, headers: Headers) -> Message:
        if not accepts(headers.accept, "application/json") and not accepts(
            headers.accept, "text/event-stream"
        ):
            raise JsonRpcError(INVALID_REQUEST, "Accept application/json and text/event-stream.", status=406)
        if headers.content_type.split(";")[0].strip().lower() != "application/json":
            raise JsonRpcError(
                INVALID_REQUEST, "Send the message as Content-Type: application/json.", status=415
            )
        try:
            body = await read_body(receive, self._max_body)
        except PayloadTooLarge as exc:
            raise JsonRpcError(INVALID_REQUEST, exc.message, status=413) from None
        if body.lstrip()[:1] == b"[":
            raise JsonRpcError(
                INVALID_REQUEST, "Batches are not supported: send one JSON-RPC message per POST.", status=400
            )
        try:
            message = decode_message(body)
        except (msgspec.DecodeError, RecursionError):
            raise JsonRpcError(
                PARSE_ERROR, "Parse error: the body is not a JSON-RPC message.", status=400
            ) from None
        check_message(message)
        return message

    async def _caller(self, scope: Scope, headers: Headers) -> Caller:
        credentials = self._reader.credentials(scope)
        if headers.routeiq_key:
            credentials = Credentials(
                token=headers.routeiq_key.strip(), client_address=credentials.client_address
            )
        return await self._dispatcher.service.caller(credentials, scope.get("state", {}).get("request_id"))

    async def _post(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers, era: Era, message: Message
    ) -> None:
        caller = await self._caller(scope, headers)
        exchange = Exchange(era=era, caller=caller, message=message, headers=headers)
        if era == "current":
            if message.method is msgspec.UNSET:
                raise JsonRpcError(
                    INVALID_REQUEST, "This era has no server requests to respond to.", status=400
                )
            if message.id is msgspec.UNSET:  # a notification: nothing to act on in this era
                await send_json(send, 202, b"")
                return
            check_envelope(message, headers)
            await self._dispatcher.handle(exchange, send, receive)
            return
        if message.method == "initialize" and message.id is not msgspec.UNSET:
            await self._initialize(send, exchange)
            return
        exchange.session = await self._session(headers, caller)
        if message.method is msgspec.UNSET:  # a response to a request the gateway relayed
            if not await self._dispatcher.deliver(message, caller):
                raise JsonRpcError(INVALID_REQUEST, "No request of this server has that id.", status=400)
            await send_json(send, 202, b"")
        elif message.id is msgspec.UNSET:
            await send_json(send, 202, b"")
        else:
            await self._dispatcher.handle(exchange, send, receive)

    async def _initialize(self, send: Send, exchange: Exchange) -> None:
        params = exchange.message.params if isinstance(exchange.message.params, dict) else {}
        offered = params.get("protocolVersion")
        version = offered if offered in LEGACY_VERSIONS else LEGACY_VERSIONS[0]
        body, token = await self._dispatcher.initialize(exchange, version)
        await send_json(send, 200, body, [(b"mcp-session-id", token.encode("ascii"))])

    async def _session(self, headers: Headers, caller: Caller) -> LegacySession:
        if not headers.session:
            raise JsonRpcError(
                INVALID_REQUEST, "Bad Request: send the Mcp-Session-Id of your initialize.", status=400
            )
        session = await self._dispatcher.sessions.open(headers.session, owner=caller.principal.label)
        if session is None:
            raise JsonRpcError(SESSION_NOT_FOUND, "Session not found: initialize again.", status=404)
        return session

    async def _delete(self, scope: Scope, send: Send, headers: Headers) -> None:
        caller = await self._caller(scope, headers)
        session = await self._session(headers, caller)
        await self._dispatcher.sessions.end(session)
        await self._dispatcher.handshake.close(session.upstream)
        await send_json(send, 200, b"")


def _loopback(origin: str) -> bool:
    host = urlsplit(origin).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
