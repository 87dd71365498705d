"""One JSON-RPC request, by method, for either era: the surface's translation to the core's use case."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

import msgspec
from cachetools import TTLCache

from routeiq_app.asgi_io import send_json
from routeiq_app.asgi_types import Receive, Send
from routeiq_app.surfaces.mcp.answer import Outcome, Push, answer
from routeiq_app.surfaces.mcp.errors import rpc_error
from routeiq_app.surfaces.mcp.wire import (
    CURRENT_STATUS,
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    SERVER_INFO_META,
    SUPPORTED_VERSIONS,
    UPSTREAMS_META,
    Headers,
    JsonRpcError,
    Message,
    accepts,
    decode_message,
    error_body,
    raw_error_body,
    result_body,
    with_fields,
)
from routeiq_core.errors import RouteIQError
from routeiq_core.mcp import Caller, Forward, Handshake, LegacySession, ListKind, McpService, SessionBook

logger = logging.getLogger("routeiq.mcp")

Era = Literal["current", "legacy"]
_LISTS: Mapping[str, ListKind] = MappingProxyType(
    {
        "tools/list": "tools",
        "resources/list": "resources",
        "resources/templates/list": "resourceTemplates",
        "prompts/list": "prompts",
    }
)
_FORWARDED = ("tools/call", "prompts/get", "resources/read", "completion/complete")
_SUBSCRIPTIONS = ("resources/subscribe", "resources/unsubscribe")
"""Legacy only: the current era has no resource subscriptions of this form."""
_LIST_CHANGED = MappingProxyType(
    {
        "notifications/tools/list_changed": "tools",
        "notifications/prompts/list_changed": "prompts",
        "notifications/resources/list_changed": "resources",
    }
)
_encoder = msgspec.json.Encoder()


class Exchange(msgspec.Struct, kw_only=True):
    """One request as the dispatcher sees it."""

    era: Era
    caller: Caller
    message: Message
    headers: Headers
    session: LegacySession | None = None


class Dispatcher:
    """Answers JSON-RPC requests from the use case.

    Args:
        service: The MCP use case.
        handshake: Sessions and capabilities of the upstreams.
        sessions: Seals legacy sessions and relayed request ids.
        server_info: ``serverInfo`` of the gateway.
        keepalive_s: SSE keep-alive interval (and the silence after which a call's answer streams).
    """

    def __init__(
        self,
        service: McpService,
        handshake: Handshake,
        sessions: SessionBook,
        server_info: Mapping[str, Any],
        keepalive_s: float = 15.0,
    ) -> None:
        self.service = service
        self.handshake = handshake
        self.sessions = sessions
        self._server_info = dict(server_info)
        self._keepalive = keepalive_s
        self._renewed: TTLCache[tuple[str, str], str] = TTLCache(maxsize=10_000, ttl=3600)

    async def handle(self, exchange: Exchange, send: Send, receive: Receive) -> None:
        """Answer ``exchange``'s request."""
        message, method = exchange.message, exchange.message.method
        if method in _FORWARDED or (method in _SUBSCRIPTIONS and exchange.era == "legacy"):
            stream = accepts(exchange.headers.accept, "text/event-stream")

            async def run(push: Push) -> Outcome:
                return await self._forwarded(exchange, push)

            await answer(send, receive, run, stream=stream, keepalive_s=self._keepalive)
            return
        try:
            body = await self._local(exchange)
        except (JsonRpcError, RouteIQError) as exc:
            status, body, headers = self.failure(exchange.era, message.id, exc)
            await send_json(send, status, body, headers)
            return
        await send_json(send, 200, result_body(message.id, body))

    def failure(self, era: Era, request_id: Any, exc: Exception) -> Outcome:
        """The HTTP status, body and headers of a failed request."""
        error = exc if isinstance(exc, JsonRpcError) else rpc_error(exc)
        status = error.status or (CURRENT_STATUS.get(error.code, 200) if era == "current" else 200)
        headers = [(k.lower().encode(), v.encode("latin-1", "replace")) for k, v in error.headers.items()]
        return status, error_body(request_id, error.code, error.message, error.data), headers

    async def _local(self, exchange: Exchange) -> bytes:
        method, params = exchange.message.method, exchange.message.params
        if method == "ping" and exchange.era == "legacy":  # 2026-07-28 removed it
            return b"{}"
        if method == "server/discover" and exchange.era == "current":
            return await self.discover()
        if method == "logging/setLevel" and exchange.era == "legacy":
            forward = Forward(sessions=self._sessions_of(exchange.session))
            await self.service.set_log_level(exchange.caller, _object(params), forward)
            return b"{}"
        kind = _LISTS.get(method) if isinstance(method, str) else None
        if kind is None:
            raise JsonRpcError(METHOD_NOT_FOUND, f"Method not found: {method}")
        if isinstance(params, dict) and params.get("cursor") is not None:
            raise JsonRpcError(INVALID_PARAMS, "Invalid cursor: this server answers every list in one page.")
        listing = await self.service.list(exchange.caller, kind)
        outcomes = {
            o.server: {"ok": o.ok, **({"error": o.error} if o.error else {})} for o in listing.outcomes
        }
        result: dict[str, Any] = {
            kind: [item for _, item in listing.items],
            "_meta": {UPSTREAMS_META: outcomes},
        }
        if exchange.era == "current":
            result.update(cacheScope="private", ttlMs=0, resultType="complete")
        return _encoder.encode(result)

    def _complete(self, exchange: Exchange, result: bytes) -> bytes:
        return with_fields(result, resultType="complete") if exchange.era == "current" else result

    async def discover(self) -> bytes:
        """The ``server/discover`` result: the versions served and the upstreams' capabilities."""
        described = await self.handshake.describe(subscriptions=False)
        result: dict[str, Any] = {
            "supportedVersions": list(SUPPORTED_VERSIONS),
            "capabilities": described.capabilities,
            "cacheScope": "private",
            "ttlMs": 0,
            "resultType": "complete",
            "_meta": {SERVER_INFO_META: self._server_info},
        }
        if described.instructions:
            result["instructions"] = described.instructions
        return _encoder.encode(result)

    async def initialize(self, exchange: Exchange, version: str) -> tuple[bytes, str]:
        """A legacy ``initialize``: the result body and the new session's token."""
        params = exchange.message.params if isinstance(exchange.message.params, dict) else {}
        client_info = _object(params.get("clientInfo"))
        capabilities = _object(params.get("capabilities"))
        opened = await self.handshake.open(client_info, capabilities)
        token, _ = self.sessions.mint(
            owner=exchange.caller.principal.label,
            version=version,
            upstream=opened.sessions,
            capabilities=capabilities,
        )
        result: dict[str, Any] = {
            "protocolVersion": version,
            "capabilities": opened.capabilities,
            "serverInfo": self._server_info,
        }
        if opened.instructions:
            result["instructions"] = opened.instructions
        return result_body(exchange.message.id, _encoder.encode(result)), token

    async def _forwarded(self, exchange: Exchange, push: Push) -> Outcome:
        message = exchange.message
        params = message.params if isinstance(message.params, dict) else {}
        session = exchange.session

        async def relay(server: str, raw: bytes) -> None:
            await self._relay(exchange, server, raw, push)

        def renewed(server: str, upstream_session: str) -> None:
            if session is not None:
                self._renewed[(session.sid, server)] = upstream_session

        forward = Forward(
            headers=exchange.headers.params,
            sessions=self._sessions_of(session),
            on_message=relay,
            on_session=renewed,
            client_capabilities=session.capabilities if session is not None else None,
        )
        service = self.service
        calls = {
            "tools/call": service.call_tool,
            "prompts/get": service.get_prompt,
            "resources/read": service.read_resource,
            "completion/complete": service.complete,
        }
        try:
            if message.method in _SUBSCRIPTIONS:
                reply = await service.subscription(exchange.caller, message.method, params, forward)
            else:
                reply = await calls[message.method](exchange.caller, params, forward)
        except (JsonRpcError, RouteIQError) as exc:
            return self.failure(exchange.era, message.id, exc)
        except Exception:
            logger.exception("MCP request %s failed", message.method)
            return self.failure(exchange.era, message.id, JsonRpcError(-32603, "Internal error"))
        if reply.error is not None:
            code = reply.error.get("code")
            status = (
                CURRENT_STATUS.get(code, 200) if exchange.era == "current" and isinstance(code, int) else 200
            )
            return status, raw_error_body(message.id, _encoder.encode(reply.error)), []
        result = bytes(reply.result) if reply.result is not None else b"{}"
        if exchange.era == "current" and message.method == "resources/read":  # a cacheable result
            result = with_fields(result, force={"cacheScope": "private"}, resultType="complete", ttlMs=0)
            return 200, result_body(message.id, result), []
        return 200, result_body(message.id, self._complete(exchange, result)), []

    def _sessions_of(self, session: LegacySession | None) -> dict[str, str]:
        if session is None:
            return {}
        return {
            server: self._renewed.get((session.sid, server), sid) for server, sid in session.upstream.items()
        }

    async def _relay(self, exchange: Exchange, server: str, raw: bytes, push: Push) -> None:
        """An upstream's message during a request: notifications pass, requests get sealed ids."""
        try:
            message = decode_message(raw)
        except msgspec.DecodeError:
            return
        kind = _LIST_CHANGED.get(message.method) if isinstance(message.method, str) else None
        if kind is not None:
            self.service.catalog.invalidate(server, "resources" if kind == "resources" else kind)  # type: ignore[arg-type]
        if message.id is msgspec.UNSET:
            await push(raw)
            return
        if exchange.era != "legacy" or exchange.session is None:
            logger.info(
                "dropped a %s request of MCP server %r: this client has no back-channel",
                message.method,
                server,
            )
            return
        upstream_session = self._sessions_of(exchange.session).get(server)
        owner = exchange.caller.principal.label
        relayed = self.sessions.relay_id(server, upstream_session, message.id, owner=owner)
        out: dict[str, Any] = {"jsonrpc": "2.0", "id": relayed, "method": message.method}
        if message.params is not msgspec.UNSET:
            out["params"] = message.params
        await push(_encoder.encode(out))

    async def deliver(self, message: Message, caller: Caller) -> bool:
        """A client's response to a relayed request: to its upstream. False: not an id made for it."""
        relayed = self.sessions.relayed(message.id, owner=caller.principal.label)
        if relayed is None:
            return False
        out: dict[str, Any] = {"jsonrpc": "2.0", "id": relayed.id}
        if message.result is not msgspec.UNSET:
            out["result"] = message.result
        if message.error is not msgspec.UNSET:
            out["error"] = message.error
        return await self.handshake.reply(relayed.server, relayed.session, _encoder.encode(out))


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
