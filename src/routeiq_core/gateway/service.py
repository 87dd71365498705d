"""The gateway use case: route a request to a deployment, retry, fall back, respect breakers."""

from __future__ import annotations

import itertools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import anyio

from routeiq_core import metric_names as names
from routeiq_core.catalog import Deployment, ModelCatalog, ModelGroup
from routeiq_core.context import CallContext, RouteDecision
from routeiq_core.errors import InvalidRequestError, UpstreamError
from routeiq_core.forwarders import NativeForwarder
from routeiq_core.gateway.attempts import (
    BeforeCall,
    Progress,
    deadline_error,
    deployment_fault,
    eligible,
    error_type,
    exhausted,
    label,
    unsupported_operation,
)
from routeiq_core.gateway.streaming import close_quietly, open_first_frame, relay, relay_bytes, relay_native
from routeiq_core.gateway.telemetry import UpstreamTelemetry
from routeiq_core.gateway.tracing import end_answered, set_usage, start_attempt, watch_stream
from routeiq_core.gateway.types import GatewayResponse, GatewayStream
from routeiq_core.metrics import Metrics, RouteCounters
from routeiq_core.native import NativeProtocol
from routeiq_core.operations import BYTE_STREAMS, STREAMABLE
from routeiq_core.providers import Operation, ProviderClient, ProviderReply, Usage
from routeiq_core.resilience.circuit_breaker import BreakerRegistry, CircuitBreaker
from routeiq_core.resilience.retry import RetryPolicy
from routeiq_core.routing.stats import DeploymentStats
from routeiq_core.routing.strategy import (
    DeploymentStrategy,
    LearnsOutcomes,
    LearnsServed,
    PreparesRoute,
)
from routeiq_core.tracing import NOOP_SPAN, NOOP_TRACER, Span, Tracer

logger = logging.getLogger("routeiq.gateway")
T = TypeVar("T")
Headers = dict[str, str]


class Gateway:
    """Routes and calls: serves a call's context over a catalog of model groups.

    Per request: take the call's model group (resolved by the use case, or resolved here), order its
    deployments with the strategy, try them with retries (exponential backoff with jitter) within an
    overall deadline, skip deployments whose breaker is open, then try the configured fallback
    groups. Every retry, fallback and breaker transition is counted in ``metrics`` and logged with
    the request id. What the strategy can do besides ordering (prepare, learn) is checked here once.
    With a tracer, each attempt is a client span (its trace context sent upstream). A call that
    carries the client's own body goes, per attempt, through its protocol's forwarder when the
    deployment speaks that protocol (:mod:`routeiq_core.native`).
    """

    def __init__(
        self,
        *,
        catalog: ModelCatalog,
        clients: Mapping[str, ProviderClient],
        strategy: DeploymentStrategy,
        breakers: BreakerRegistry,
        retry: RetryPolicy,
        metrics: Metrics,
        stats: DeploymentStats,
        request_timeout_s: float,
        rng: random.Random,
        tracer: Tracer = NOOP_TRACER,
        capture_content: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        forwarders: Mapping[NativeProtocol, NativeForwarder] | None = None,
    ) -> None:
        self.catalog = catalog
        self._clients = clients
        self._forwarders = forwarders or {}
        self._strategy = strategy
        self._prepare = strategy if isinstance(strategy, PreparesRoute) else None
        self._served = strategy if isinstance(strategy, LearnsServed) else None
        self._learner = strategy if isinstance(strategy, LearnsOutcomes) else None
        self._breakers = breakers
        self._retry = retry
        self._metrics = metrics
        self.stats = stats
        self._telemetry = UpstreamTelemetry(metrics, catalog)
        self._token_counters = RouteCounters(metrics, names.PROMPT_TOKENS, names.COMPLETION_TOKENS)
        self._timeout_s = request_timeout_s
        self._rng = rng
        self._tracer = tracer if tracer.enabled else None
        self._capture = capture_content
        self._clock = clock
        self._sleep = sleep

    async def complete(self, request: CallContext, before_call: BeforeCall | None = None) -> GatewayResponse:
        """Answer a non-streaming request."""

        async def call(d: Deployment, timeout_s: float, headers: Headers | None) -> ProviderReply:
            if request.native is not None and (forwarder := self._forwarder(request, d)) is not None:
                return await forwarder.forward(d, request.native, timeout_s=timeout_s, headers=headers)
            client = self._clients[d.adapter]
            payload = self._payload(request, d)
            return await client.send(d, request.operation, payload, timeout_s=timeout_s, headers=headers)

        reply, route, span = await self._attempt(request, call, before_call)
        self.stats.ended(route.deployment_id)
        if reply.usage is not None:
            self.record_usage(route, reply.usage, request.operation)
        if span is not NOOP_SPAN:
            end_answered(span, reply.body, reply.usage, capture_content=self._capture)
        return GatewayResponse(body=reply.body, usage=reply.usage, route=route)

    async def open_stream(self, request: CallContext, before_call: BeforeCall | None = None) -> GatewayStream:
        """Start a streaming request; failover happens until the first frame arrives."""
        operation = request.operation

        async def call(
            d: Deployment, timeout_s: float, headers: Headers | None
        ) -> tuple[Any, bytes | None, Deployment, float]:
            sent = self._clock()
            if request.native is not None and (forwarder := self._forwarder(request, d)) is not None:
                frames = forwarder.forward_stream(d, request.native, timeout_s=timeout_s, headers=headers)
            else:
                frames = self._clients[d.adapter].stream(
                    d, operation, self._payload(request, d), timeout_s=timeout_s, headers=headers
                )
            first = await open_first_frame(frames, timeout_s, d.id)
            self._telemetry.first_chunk(d, operation, self._clock() - sent)
            return frames, first, d, sent

        (frames, first, deployment, sent), route, span = await self._attempt(request, call, before_call)
        ended = False

        def end() -> None:
            nonlocal ended
            if not ended:
                ended = True
                self.stats.ended(deployment.id)
                self._telemetry.attempt(deployment, operation, self._clock() - sent)
                span.end()

        def on_usage(usage: Usage) -> None:
            self.record_usage(route, usage, operation)
            stream.usage = usage
            set_usage(span, usage)

        def on_failure(exc: UpstreamError) -> None:
            span.fail(str(exc.status_code), exc.message)
            self._stream_failed(deployment, route, exc)

        def on_events(count: int) -> None:
            stream.events += count

        if request.served_natively and request.native is not None:
            read = self._forwarders[request.native.protocol].stream_usage
            relayed = relay_native(frames, first, read, on_failure, on_usage, on_events, on_end=end)
        elif operation in BYTE_STREAMS:
            relayed = relay_bytes(frames, first, on_failure=on_failure, on_end=end)
        else:
            if span.recording:
                frames = watch_stream(span, first, frames)
            relayed = relay(
                frames,
                first,
                client_wants_usage=request.client_wants_usage,
                on_failure=on_failure,
                on_usage=on_usage,
                on_events=on_events,
                on_end=end,
            )

        async def aclose() -> None:
            await close_quietly(relayed)
            await close_quietly(frames)
            end()

        stream = GatewayStream(route=route, frames=relayed, aclose=aclose, first_frame=first)
        return stream

    def record_usage(self, route: RouteDecision, usage: Usage, operation: Operation) -> None:
        """Account a call's tokens per deployment (usage-based routing, the token counters and usage)."""
        self.stats.add_tokens(route.deployment_id, usage.total_tokens)
        self._telemetry.tokens(route.deployment_id, operation, usage)
        prompt, completion = self._token_counters(route.model_group, route.deployment_id)
        prompt(usage.prompt_tokens)
        completion(usage.completion_tokens)

    def _forwarder(self, request: CallContext, d: Deployment) -> NativeForwarder | None:
        """The forwarder of the call's own protocol when ``d`` speaks it (noted on the call), else None."""
        native = request.native
        forwarder = self._forwarders.get(native.protocol) if native and native.protocol in d.native else None
        request.served_natively = forwarder is not None
        return forwarder

    def _payload(self, request: CallContext, d: Deployment) -> dict[str, Any]:
        payload = {**request.payload, "model": d.upstream_model}
        if request.stream and request.operation in STREAMABLE:
            options = payload.get("stream_options")
            payload["stream_options"] = {
                **(options if isinstance(options, dict) else {}),
                "include_usage": True,
            }
        return payload

    def _stream_failed(self, d: Deployment, route: RouteDecision, exc: UpstreamError) -> None:
        self._breakers.get(d.id).record_failure()
        self._metrics.increment(names.STREAM_FAILURES, model_group=route.model_group, deployment=d.id)
        logger.warning("stream from %s failed after its first frame: %s", d.id, exc.message)

    async def _attempt(
        self,
        request: CallContext,
        call: Callable[[Deployment, float, Headers | None], Awaitable[T]],
        before_call: BeforeCall | None,
    ) -> tuple[T, RouteDecision, Span]:
        """Try the request's group, then its context-window and configured fallbacks, in order."""
        progress = Progress(deadline=self._clock() + self._timeout_s, before_call=before_call)
        queue = self._initial_groups(request)
        tried: list[str] = []
        labels: list[str] = []
        while queue:
            group = queue.pop(0)
            if group.name in tried:
                continue
            if tried:
                self._count(names.FALLBACKS, request, from_group=labels[-1], to_group=label(group))
            tried.append(group.name)
            labels.append(label(group))
            if progress.first_group is None:
                progress.first_group = group.name
            result = await self._try_group(group, request, call, progress)
            if result is not None:
                return result
            if progress.overflowed:
                progress.overflowed = False
                queue = [*self._resolve(group.context_window_fallbacks), *queue]
            if group.name == tried[0]:
                queue = [*queue, *self._resolve(group.fallbacks)]
        if progress.unroutable == tried:
            raise InvalidRequestError(
                f"No deployment of {', '.join(tried)} can take this request (tags "
                f"{', '.join(request.tags) or 'none'}, "
                f"about {request.estimated_prompt_tokens} prompt tokens).",
                param="model",
                code="no_matching_deployment",
            )
        raise exhausted(self.catalog, self._breakers, request.model, tried, progress)

    async def _try_group(
        self,
        group: ModelGroup,
        request: CallContext,
        call: Callable[[Deployment, float, Headers | None], Awaitable[T]],
        progress: Progress,
    ) -> tuple[T, RouteDecision, Span] | None:
        """Up to ``num_retries + 1`` attempts over the group's deployments in strategy order."""
        candidates = [d for d in group.deployments if eligible(d, request)]
        if self._prepare is not None:  # e.g. affinity shared across workers reads its pin first
            await self._prepare.prepare(group, request)
        order = self._strategy.order(group, candidates, request)
        if not order:
            progress.unroutable.append(group.name)
        tries = 0
        for d in itertools.islice(itertools.cycle(order), len(order) * (self._retry.num_retries + 1)):
            breaker = self._breakers.get(d.id)
            if tries > self._retry.num_retries or not breaker.allow():
                continue
            if progress.attempts and not await self._backoff(progress, request, breaker):
                raise deadline_error(request.model, self._timeout_s, progress)
            tries += 1
            progress.attempts += 1
            request.attempts = progress.attempts
            request.deployment = d
            if progress.before_call is not None:
                await progress.before_call(d)
            self.stats.started(d.id)
            span = self._attempt_span(request, d, group, progress)
            started = self._clock()
            try:
                timeout_s = max(0.001, min(d.timeout_s, progress.deadline - started))
                result = await call(d, timeout_s, span.propagation_headers() or None)
            except UpstreamError as exc:
                span.fail(error_type(exc), exc.message)
                span.end()
                self.stats.ended(d.id)
                self._telemetry.attempt(d, request.operation, self._clock() - started, error_type(exc))
                progress.last_error = exc
                if exc.is_context_overflow:
                    breaker.release_probe()
                    progress.overflowed = True
                    return None
                if not (exc.retryable or deployment_fault(d, exc, request.pinned_deployment)):
                    breaker.release_probe()
                    raise
                self.stats.observe(d.id, self._clock() - started, ok=False)
                self._report(request, False, None)
                breaker.record_failure()
                self._count(names.UPSTREAM_FAILURES, request, deployment=d.id, status=str(exc.status_code))
                logger.warning(
                    "attempt %d on %s failed (%s): %s", progress.attempts, d.id, exc.status_code, exc.message
                )
                continue
            except BaseException as exc:
                span.fail(type(exc).__name__)
                span.end()
                self.stats.ended(d.id)
                breaker.release_probe()
                raise
            self._succeeded(d, request, self._clock() - started)
            breaker.record_success()
            if self._served is not None:  # e.g. conversation affinity learns who actually served
                await self._served.on_routed(group, request, d.id)
            route = RouteDecision(
                model_group=label(group),
                deployment_id=d.id,
                strategy=self._strategy.name,
                attempts=progress.attempts,
            )
            return result, route, span
        return None

    def _attempt_span(
        self, request: CallContext, d: Deployment, group: ModelGroup, progress: Progress
    ) -> Span:
        """The client span of an attempt (the no-op span when tracing is off)."""
        if self._tracer is None:
            return NOOP_SPAN
        return start_attempt(
            self._tracer,
            request,
            d,
            model_group=label(group),
            strategy=self._strategy.name,
            attempt=progress.attempts,
            fallback=progress.first_group is not None and progress.first_group != group.name,
            capture_content=self._capture,
        )

    def _succeeded(self, d: Deployment, request: CallContext, elapsed: float) -> None:
        self.stats.observe(d.id, elapsed, ok=True)
        self._report(request, True, elapsed)
        if not request.stream:  # a stream's duration is recorded when it ends
            self._telemetry.attempt(d, request.operation, elapsed)

    def _report(self, context: CallContext, ok: bool, latency_s: float | None) -> None:
        """Strategies that learn from outcomes (experiments, bandits) hear about every attempt."""
        if self._learner is not None:
            self._learner.on_outcome(context, ok, latency_s)

    async def _backoff(self, progress: Progress, request: CallContext, breaker: CircuitBreaker) -> bool:
        last = progress.last_error
        wait = self._retry.delay(progress.attempts, self._rng, last.retry_after_s if last else None)
        if self._clock() + wait >= progress.deadline:
            breaker.release_probe()
            return False
        self._count(names.RETRIES, request)
        await self._sleep(wait)
        return True

    def _initial_groups(self, request: CallContext) -> list[ModelGroup]:
        group = request.group or self.catalog.resolve(request.model)
        tokens = request.estimated_prompt_tokens
        limit = group.max_context_tokens
        if limit is not None and tokens > limit:
            fallbacks = self._resolve(group.context_window_fallbacks)
            usable = [g for g in fallbacks if g.max_context_tokens is None or tokens <= g.max_context_tokens]
            if not usable:
                raise InvalidRequestError(
                    f"The prompt (about {tokens} tokens) is longer than the context window of {group.name!r} "
                    f"({limit} tokens) and no context-window fallback takes it. Shorten the prompt.",
                    param="messages",
                    code="context_length_exceeded",
                )
            self._count(names.CONTEXT_WINDOW_FALLBACKS, request, from_group=label(group))
            return usable
        if not any(d.serves(request.operation) for d in group.deployments):
            raise unsupported_operation(group, request.operation)
        return [group]

    def _resolve(self, names: tuple[str, ...]) -> list[ModelGroup]:
        return [g for name in names if (g := self.catalog.get(name)) is not None]

    def _count(self, name: str, request: CallContext, **labels: str) -> None:
        group = request.group
        model = group.pattern if group is not None and group.pattern else request.model
        self._metrics.increment(name, 1.0, model=model, **labels)
