"""The OpenAI-compatible hot path: chat, completions, embeddings (with and without ``/v1``).

These are Litestar ``@asgi`` handlers: the app's middleware and exception handlers still apply, but
each request costs one body read, one msgspec decode and one validation, with no per-request
framework objects. Upstream JSON is passed to the client as bytes, streams frame by frame.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import msgspec
from litestar import asgi
from litestar.handlers import ASGIRouteHandler

from routeiq_app.access_gate import AccessGate, Admission
from routeiq_app.asgi_io import SSE_HEADERS, decode_object, read_body, send_json, send_stream, validate
from routeiq_app.asgi_types import Receive, Scope, Send
from routeiq_app.model_routing import ModelRouting
from routeiq_app.wire import ChatCompletionRequest, CompletionRequest, EmbeddingRequest
from routeiq_core.errors import InvalidRequestError, RouteIQError
from routeiq_core.gateway import Gateway, GatewayRequest, GatewayStream, RouteDecision, estimate_prompt_tokens
from routeiq_core.gateway.sse import DONE
from routeiq_core.plugins import PluginContext, PluginManager, ShortCircuit
from routeiq_core.providers import Operation, Usage

_WIRE_TYPES = (
    (Operation.CHAT, ChatCompletionRequest, ("/v1/chat/completions", "/chat/completions")),
    (Operation.COMPLETIONS, CompletionRequest, ("/v1/completions", "/completions")),
    (Operation.EMBEDDINGS, EmbeddingRequest, ("/v1/embeddings", "/embeddings")),
)


class MethodNotAllowed(RouteIQError):
    """Only POST is served on the OpenAI operation routes."""

    status_code = 405
    error_type = "invalid_request_error"
    default_code = "method_not_allowed"


def route_headers(route: RouteDecision) -> list[tuple[bytes, bytes]]:
    """The ``x-routeiq-*`` headers describing a routing decision."""
    return [
        (b"x-routeiq-model-group", route.model_group.encode()),
        (b"x-routeiq-deployment", route.deployment_id.encode()),
        (b"x-routeiq-strategy", route.strategy.encode()),
        (b"x-routeiq-attempts", str(route.attempts).encode()),
    ]


def _routing_hints(scope: Scope, payload: dict[str, Any]) -> dict[str, Any]:
    """Tags (``x-routeiq-tags``), conversation (``x-routeiq-conversation-id``) and ``user`` (body)."""
    hints: dict[str, Any] = {}
    for name, value in scope.get("headers", ()):
        if name == b"x-routeiq-tags":
            hints["tags"] = tuple(t.strip() for t in value.decode("latin-1").split(",") if t.strip())
        elif name == b"x-routeiq-conversation-id":
            hints["conversation_id"] = value.decode("latin-1")
    previous = payload.get("previous_response_id")
    if "conversation_id" not in hints and isinstance(previous, str):
        hints["conversation_id"] = previous
    user = payload.get("user")
    if isinstance(user, str):
        hints["user"] = user
    return hints


def openai_routes(
    gateway_provider: Callable[[], Gateway],
    gate: AccessGate,
    plugins_provider: Callable[[], PluginManager],
    routing: ModelRouting,
    max_body_bytes: int,
) -> list[ASGIRouteHandler]:
    """Build the operation handlers bound to this app's gateway."""
    decoder = msgspec.json.Decoder(dict[str, Any])
    handlers = []
    for operation, wire_type, paths in _WIRE_TYPES:
        handler = _operation_handler(
            operation, wire_type, gateway_provider, gate, plugins_provider, routing, max_body_bytes, decoder
        )
        handlers.append(asgi(path=list(paths), name=f"openai-{operation.value}", copy_scope=False)(handler))
    return handlers


def _operation_handler(
    operation: Operation,
    wire_type: type[Any],
    gateway_provider: Callable[[], Gateway],
    gate: AccessGate,
    plugins_provider: Callable[[], PluginManager],
    routing: ModelRouting,
    max_body_bytes: int,
    decoder: msgspec.json.Decoder[dict[str, Any]],
) -> Callable[[Scope, Receive, Send], Any]:
    streamable = operation is not Operation.EMBEDDINGS

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            raise MethodNotAllowed(f"Use POST for {scope['path']}.")
        payload = decode_object(await read_body(receive, max_body_bytes), decoder)
        parsed = validate(payload, wire_type)
        stream = bool(streamable and parsed.stream)
        if not streamable and payload.get("stream"):
            raise InvalidRequestError("Embeddings cannot be streamed.", param="stream")
        prompt_tokens = estimate_prompt_tokens(operation, payload)
        choose = (
            functools.partial(routing.choose, scope, payload)
            if routing.is_routed(payload.get("model"))
            else None
        )
        admission = await gate.admit(scope, payload, prompt_tokens, choose)
        plugins = plugins_provider()
        ctx = _plugin_context(scope, operation, payload, stream, admission) if plugins.enabled else None
        route: RouteDecision | None = None
        usage: Usage | None = None
        try:
            if ctx is not None:
                short = await plugins.before_request(ctx)
                if short is not None:
                    await _send_short_circuit(send, short, stream, ctx.response_headers)
                    return
                payload = ctx.payload
            options = getattr(parsed, "stream_options", None)
            hints = _routing_hints(scope, payload)
            hints["tags"] = (*hints.get("tags", ()), *admission.tags)
            request = GatewayRequest(
                operation=operation,
                model=admission.model,
                payload=payload,
                stream=stream,
                client_wants_usage=bool(options and options.include_usage),
                estimated_prompt_tokens=prompt_tokens,
                request_id=scope.get("state", {}).get("request_id"),
                key_id=admission.principal.key_id,
                before_call=functools.partial(plugins.before_call, ctx) if ctx is not None else None,
                **hints,
            )
            answer = _answer_stream if stream else _answer
            route, usage = await answer(
                gateway_provider(), request, send, receive, plugins, ctx, admission.headers
            )
        except RouteIQError as exc:
            if ctx is not None:
                await plugins.on_error(ctx, exc)
            raise
        finally:
            await gate.settle(admission, route, usage)

    handle.__name__ = f"openai_{operation.value}"
    handle.__doc__ = f"OpenAI-compatible {operation.value} endpoint."
    return handle


def _plugin_context(
    scope: Scope, operation: Operation, payload: dict[str, Any], stream: bool, admission: Admission
) -> PluginContext:
    principal = admission.principal
    return PluginContext(
        request_id=scope.get("state", {}).get("request_id"),
        operation=operation,
        route=scope["path"],
        payload=payload,
        stream=stream,
        key_id=principal.key_id,
        team=principal.team,
        user=principal.user,
        model_group=admission.model_group,
    )


def _extra_headers(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


async def _send_short_circuit(
    send: Send, short: ShortCircuit, stream: bool, headers: Mapping[str, str]
) -> None:
    """A plugin answered (e.g. a cache hit): no upstream call."""
    extra = _extra_headers({**headers, **short.headers})
    if stream:
        frames = [*(short.frames or ()), DONE]
        await send({"type": "http.response.start", "status": 200, "headers": [*SSE_HEADERS, *extra]})
        await send({"type": "http.response.body", "body": b"".join(frames), "more_body": False})
    else:
        await send_json(send, 200, short.body or b"{}", extra)


async def _answer(
    gateway: Gateway,
    request: GatewayRequest,
    send: Send,
    receive: Receive,
    plugins: PluginManager,
    ctx: PluginContext | None,
    extra: tuple[tuple[bytes, bytes], ...],
) -> tuple[RouteDecision, Usage | None]:
    response = await gateway.complete(request)
    body = response.body
    headers = [*route_headers(response.route), *extra]
    if ctx is not None:
        ctx.usage = response.usage
        body = await plugins.after_response(ctx, body) or body
        headers += _extra_headers(ctx.response_headers)
    await send_json(send, 200, body, headers)
    return response.route, response.usage


async def _usage_before_done(opened: GatewayStream, ctx: PluginContext) -> AsyncIterator[bytes]:
    """Plugins see the stream's usage when ``[DONE]`` reaches them (it is known by then)."""
    async for chunk in opened.frames:
        if chunk == DONE:
            ctx.usage = opened.usage
        yield chunk


async def _answer_stream(
    gateway: Gateway,
    request: GatewayRequest,
    send: Send,
    receive: Receive,
    plugins: PluginManager,
    ctx: PluginContext | None,
    extra: tuple[tuple[bytes, bytes], ...],
) -> tuple[RouteDecision, Usage | None]:
    opened = await gateway.open_stream(request)
    headers = [*route_headers(opened.route), *extra]
    frames = opened.frames
    if ctx is not None:
        headers += _extra_headers(ctx.response_headers)
        frames = plugins.wrap_stream(ctx, _usage_before_done(opened, ctx))
    try:
        await send_stream(send, receive, frames, opened.aclose, headers)
    finally:
        if ctx is not None:
            ctx.usage = opened.usage
            await plugins.after_response(ctx, None)
    return opened.route, opened.usage
