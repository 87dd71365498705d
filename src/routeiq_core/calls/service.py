"""The request use case: every surface's call goes through :meth:`CallService.call`.

The sequence, in order: authenticate → authorize (``llm.call``) → decode the body → routed name
(a trained router picks the group) → policy → resolve the model group → team record and quota
reserve → ``plugins.before_request`` (may answer itself) → route and call (retries, fallbacks,
breakers; ``plugins.before_call`` per attempt) → ``plugins.after_response`` (or the stream hooks)
→ settle quota and spend, exactly once, whatever happened (errors, client disconnects mid-stream).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import anyio

from routeiq_core import span_names as names
from routeiq_core.access.principal import Principal
from routeiq_core.access.quota_service import QuotaTicket
from routeiq_core.access.rbac import require
from routeiq_core.calls.access import CallAccess
from routeiq_core.calls.command import (
    CallAnswer,
    CallCommand,
    CallRequest,
    CallResult,
    CallStream,
    RoutingHints,
)
from routeiq_core.calls.exploration import Explorer
from routeiq_core.calls.routed import RoutedModels, take_cost_weight
from routeiq_core.calls.settle import Settlement, account, body_tokens
from routeiq_core.calls.tracing import CallTracing, quota_outcome, routed_attributes
from routeiq_core.context import CallContext
from routeiq_core.errors import RouteIQError
from routeiq_core.gateway import Gateway, GatewayStream, estimate_prompt_tokens
from routeiq_core.gateway.streaming import close_quietly
from routeiq_core.operations import BYTE_STREAMS, SIZED_ANSWERS
from routeiq_core.plugins import PluginManager, ShortCircuit
from routeiq_core.providers import Operation
from routeiq_core.request_log import RequestJournal, frame_answer_id
from routeiq_core.sse import DONE
from routeiq_core.surfaces import LIBRARY_SURFACE
from routeiq_core.tracing import NOOP_TRACER, Tracer

logger = logging.getLogger("routeiq.calls")
FINISH_TIMEOUT_S = 10.0
"""Longest the end of a call (closing the stream, the last plugin hooks, settling) may take."""
_BEFORE_REQUEST = names.PLUGINS_SPAN.format(hook="before_request")
_AFTER_RESPONSE = names.PLUGINS_SPAN.format(hook="after_response")


class CallService:
    """Runs one call from any surface through access, plugins, routing and settlement.

    Args:
        access: Identify, policy, model group, team record, quota reserve.
        gateway: Routes and calls the upstream.
        plugins: The enabled plugins (hooks are skipped when none is).
        settlement: Settles quota and records spend.
        routed: The routed model names (None: there are none).
        journal: Writes each call's record to the request log (None: no request log).
        explorer: Explores answered calls to routed names in the background (None: no exploration).
        tracer: Opens the call's spans (the no-op tracer: none).
        clock: Unix time (``received_at`` of each call).
    """

    def __init__(
        self,
        *,
        access: CallAccess,
        gateway: Gateway,
        plugins: PluginManager,
        settlement: Settlement,
        routed: RoutedModels | None = None,
        journal: RequestJournal | None = None,
        explorer: Explorer | None = None,
        tracer: Tracer = NOOP_TRACER,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._access = access
        self._gateway = gateway
        self._plugins = plugins
        self._settlement = settlement
        self._routed = routed
        self._journal = journal
        self._explorer = explorer
        self._tracing = CallTracing(tracer)
        self._clock = clock

    def call(self, command: CallCommand) -> AbstractAsyncContextManager[CallResult]:
        """Admit and answer ``command``; the call is settled when the ``async with`` block ends.

        Write the answer inside the block: a :class:`CallAnswer` body, or a :class:`CallStream`'s
        frames as they come. Leaving the block — normally, by an exception, or cancelled because the
        client went away — closes the stream and settles the call exactly once.

        Raises (on entering the block):
            AuthenticationError: 401 before the body is even decoded.
            PermissionDeniedError: 403 (role, model, team, policy).
            InvalidRequestError: 400 from the surface's decoder or the routing hints.
            NotFoundError: 404 for an unknown model.
            QuotaExceededError / BudgetExceededError: 429. QuotaUnavailableError: 503.
            UpstreamError: what the upstreams answered when every attempt failed.
        """
        return _Call(self, command)

    async def _finish(
        self,
        ctx: CallContext,
        ticket: QuotaTicket | None,
        result: CallResult | None,
        error: BaseException | None,
        own_span: bool = False,
    ) -> None:
        """Close a stream (shielded: the client may have gone), settle, log; runs once per call.

        Settlement itself needs no shield: the quota service shields its store call, and the spend
        ledger's and request log's ``record`` only buffer.
        """
        if isinstance(result, CallStream):
            with anyio.CancelScope(shield=True), anyio.move_on_after(FINISH_TIMEOUT_S):
                await result.aclose()
        if ticket is not None:
            await self._settlement.settle(ctx, ticket)
        if self._tracing.enabled:
            self._tracing.close(ctx, error, own=own_span, cache_hit=ctx.short_circuited)
        if self._explorer is not None and error is None and isinstance(result, CallAnswer) and ctx.routed:
            self._explorer.observe(ctx, result.body)  # only queues: the exploring runs elsewhere
        if self._journal is not None:
            body = result.body if isinstance(result, CallAnswer) else None
            try:
                await self._journal.ended(ctx, error, body)
            except Exception:  # the log must never fail an answer
                logger.exception("writing the request log failed")

    async def _refused(self, command: CallCommand, error: BaseException) -> None:
        """Log a call refused before it had a context (no valid key, say)."""
        if self._journal is None:
            return
        ctx = CallContext(
            request_id=command.request_id,
            operation=command.operation,
            surface=command.surface,
            received_at=self._clock(),
            source_ip=command.credentials.client_address,
        )
        try:
            await self._journal.ended(ctx, error, None)
        except Exception:
            logger.exception("writing the request log failed")

    async def describe(self, command: CallCommand) -> CallContext:
        """Admit ``command`` up to its model group, reserving and calling nothing.

        Authentication, ``llm.call``, the body, a routed name's choice, the policy and the model
        group, as :meth:`call` does them — for answers that need no upstream (token counts).

        Raises:
            The errors of :meth:`call` before its reservation (401, 403, 400, 404).
        """
        return await self._prepare(command, None)

    async def _prepare(self, command: CallCommand, call: _Call | None) -> CallContext:
        """Who, what, which group.

        The context is handed to ``call`` as soon as it exists (a refusal after that is logged with it).
        """
        principal = await self._access.identify(command.credentials)
        require(principal, "llm.call")
        request = command.request if isinstance(command.request, CallRequest) else command.request()
        cost_weight = take_cost_weight(request.payload, command.hints.cost_weight)
        ctx = describe_call(
            request,
            operation=command.operation,
            principal=principal,
            hints=command.hints,
            request_id=command.request_id,
            surface=command.surface,
            received_at=self._clock(),
            source_ip=command.credentials.client_address,
        )
        ctx.pinned_deployment = command.deployment
        tracing = self._tracing
        if call is not None:
            call.context = ctx
            if tracing.enabled:
                call.own_span = tracing.open(ctx, command.span)
        if self._routed is not None and self._routed.is_routed(ctx.model):
            with tracing.step(ctx, names.ROUTE_SPAN) as span:
                await self._routed.choose(ctx, cost_weight)
                if span.recording and ctx.routed is not None:
                    span.set_attributes(routed_attributes(ctx.routed))
            ctx.payload["model"] = ctx.model
        self._access.apply_policy(ctx)
        self._access.resolve(ctx)
        return ctx

    async def _admit(self, command: CallCommand, call: _Call) -> tuple[CallContext, QuotaTicket]:
        """Everything before the reservation (:meth:`_prepare`), then the reservation."""
        ctx = await self._prepare(command, call)
        tracing = self._tracing
        if not tracing.enabled:
            return ctx, await self._access.reserve(ctx)
        with tracing.step(ctx, names.QUOTA_SPAN) as span:
            try:
                ticket = await self._access.reserve(ctx)
            except BaseException as exc:
                span.set_attribute(names.QUOTA_OUTCOME, quota_outcome(exc))
                raise
            span.set_attribute(names.QUOTA_OUTCOME, "reserved")
        return ctx, ticket

    async def _answer(self, ctx: CallContext) -> CallResult:
        """Plugins before, the upstream call, plugins after (a stream's last hooks run at its end)."""
        plugins = self._plugins if self._plugins.enabled else None
        try:
            if plugins is None:
                return await (self._open_stream(ctx, None) if ctx.stream else self._complete(ctx, None))
            ctx.native = None  # plugins read and change the canonical shape: never bypass them
            with self._tracing.step(ctx, _BEFORE_REQUEST) as span:
                span.set_attribute(names.PLUGINS, tuple(plugins.names))
                short = await plugins.before_request(ctx)
            if short is not None:
                return _short_circuit(ctx, short)
            return await (self._open_stream(ctx, plugins) if ctx.stream else self._complete(ctx, plugins))
        except RouteIQError as exc:
            if plugins is not None:
                await plugins.on_error(ctx, exc)
            raise

    async def _complete(self, ctx: CallContext, plugins: PluginManager | None) -> CallAnswer:
        before_call = functools.partial(plugins.before_call, ctx) if plugins is not None else None
        response = await self._gateway.complete(ctx, before_call)
        ctx.route = response.route
        produced = body_tokens(response.body) if ctx.operation in SIZED_ANSWERS else 0  # not an image's bytes
        account(ctx, response.usage, produced=produced, body=response.body)
        body = response.body
        if plugins is not None:
            with self._tracing.step(ctx, _AFTER_RESPONSE) as span:
                span.set_attribute(names.PLUGINS, tuple(plugins.names))
                body = await plugins.after_response(ctx, body) or body
        return CallAnswer(context=ctx, body=body)

    async def _open_stream(self, ctx: CallContext, plugins: PluginManager | None) -> CallStream:
        before_call = functools.partial(plugins.before_call, ctx) if plugins is not None else None
        opened = await self._gateway.open_stream(ctx, before_call)
        ctx.first_chunk_at = self._clock()
        if self._journal is not None and ctx.response_id is None and opened.first_frame is not None:
            ctx.response_id = frame_answer_id(opened.first_frame)  # feedback may name the call by it
        ctx.route = opened.route
        if plugins is None or ctx.operation in BYTE_STREAMS:  # plugins' stream hooks read SSE, not audio
            frames = opened.frames
            layers: tuple[AsyncIterator[bytes], ...] = ()
        else:
            watched = _usage_before_done(opened, ctx)
            frames = plugins.wrap_stream(ctx, watched)
            layers = (frames, watched)

        async def close() -> None:
            for layer in layers:
                await close_quietly(layer)
            await opened.aclose()
            account(ctx, opened.usage, produced=opened.events)
            if plugins is not None:
                try:
                    await plugins.after_response(ctx, None)
                except RouteIQError as exc:  # the stream was sent already: nothing left to refuse
                    logger.warning("a plugin refused a stream after it ended: %s", exc.message)

        return CallStream(ctx, frames, close)


def describe_call(
    request: CallRequest,
    *,
    operation: Operation,
    principal: Principal,
    hints: RoutingHints | None = None,
    request_id: str | None = None,
    surface: str = LIBRARY_SURFACE,
    received_at: float = 0.0,
    source_ip: str | None = None,
) -> CallContext:
    """The context of a call from its decoded request: what the payload says, once.

    The model asked for, the end user, the output cap and a prompt-token estimate come from the
    payload; tags and the conversation from ``hints`` (a ``previous_response_id`` stands for the
    conversation when no hint names one).
    """
    payload, hints = request.payload, hints or RoutingHints()
    model, user, previous = payload.get("model"), payload.get("user"), payload.get("previous_response_id")
    max_tokens = _larger_cap(payload.get("max_tokens"), payload.get("max_completion_tokens"))
    return CallContext(
        request_id=request_id,
        operation=operation,
        surface=surface,
        received_at=received_at,
        source_ip=source_ip,
        principal=principal,
        payload=payload,
        stream=request.stream,
        client_wants_usage=request.client_wants_usage,
        model=model if isinstance(model, str) else "",
        requested_model=model if isinstance(model, str) else "",
        tags=hints.tags,
        conversation_id=hints.conversation_id or (previous if isinstance(previous, str) else None),
        user=user if isinstance(user, str) else None,
        estimated_prompt_tokens=estimate_prompt_tokens(operation, payload),
        max_tokens=max_tokens,
        native=request.native,
    )


class _Call:
    """One call's ``async with``: admission and the answer on entry, settlement on exit."""

    __slots__ = ("_command", "_result", "_service", "_ticket", "context", "own_span")

    def __init__(self, service: CallService, command: CallCommand) -> None:
        self._service = service
        self._command = command
        self.context: CallContext | None = None
        self.own_span = False
        self._ticket: QuotaTicket | None = None
        self._result: CallResult | None = None

    async def __aenter__(self) -> CallResult:
        service = self._service
        try:
            ctx, ticket = await service._admit(self._command, self)
        except BaseException as exc:
            if self.context is None:
                await service._refused(self._command, exc)
            else:
                await service._finish(self.context, None, None, exc, self.own_span)
            raise
        self._ticket = ticket
        try:
            self._result = await service._answer(ctx)
        except BaseException as exc:
            await service._finish(ctx, ticket, None, exc, self.own_span)
            raise
        return self._result

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if self.context is not None and self._ticket is not None:
            await self._service._finish(self.context, self._ticket, self._result, exc, self.own_span)


def _larger_cap(first: object, second: object) -> int | None:
    """The larger of two output caps (``max_tokens``, ``max_completion_tokens``), ignoring non-integers."""
    caps = [c for c in (first, second) if type(c) is int]
    return max(caps) if caps else None


async def _usage_before_done(opened: GatewayStream, ctx: CallContext) -> AsyncIterator[bytes]:
    """Plugins see the stream's usage when ``[DONE]`` reaches them (it is known by then)."""
    async for chunk in opened.frames:
        if chunk == DONE:
            ctx.usage = opened.usage
        yield chunk


def _short_circuit(ctx: CallContext, short: ShortCircuit) -> CallResult:
    """A plugin answered (a cache hit, say): no upstream call, nothing to settle but the reservation."""
    ctx.response_headers.update(short.headers)
    ctx.short_circuited = True
    if not ctx.stream:
        return CallAnswer(context=ctx, body=short.body or b"{}")
    frames = b"".join((*(short.frames or ()), DONE))

    async def replay() -> AsyncIterator[bytes]:
        yield frames

    stream = replay()
    return CallStream(ctx, stream, functools.partial(close_quietly, stream))
