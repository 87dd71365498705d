"""The spans of the call use case: the call itself, its routing decision, quota reserve, plugin hooks.

The call's span is the surface's (the HTTP server span) when it gives one; a call from the library
gets a ``routeiq.call`` span of its own. Steps are its children; upstream attempts are opened by the
gateway under it. With the no-op tracer nothing is built: :meth:`CallTracing.step` hands back a
shared null context.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager

from routeiq_core import span_names as attr
from routeiq_core.access.errors import BudgetExceededError, QuotaExceededError, QuotaUnavailableError
from routeiq_core.context import CallContext, RoutedChoice
from routeiq_core.errors import RouteIQError
from routeiq_core.tracing import NOOP_SPAN, AttributeValue, Span, Tracer

_OFF: AbstractContextManager[Span] = contextlib.nullcontext(NOOP_SPAN)


def error_type_of(error: BaseException) -> str:
    """``error.type`` of a failed step: the status code of RouteIQ's errors, else the exception's class."""
    if isinstance(error, RouteIQError):
        return str(error.status_code)
    return type(error).__qualname__


def quota_outcome(error: BaseException) -> str:
    """How a reservation was refused, with the names ``routeiq_quota_refusals`` uses."""
    if isinstance(error, BudgetExceededError):
        return "budget"
    if isinstance(error, QuotaExceededError):
        return "rate"
    if isinstance(error, QuotaUnavailableError):
        return "unavailable"
    return "error"


def routed_attributes(choice: RoutedChoice) -> dict[str, AttributeValue]:
    """What a trained router decided for a routed model name."""
    return {
        attr.ROUTED_ROUTER: choice.router,
        attr.ROUTED_MODEL_GROUP: choice.model_group,
        attr.ROUTED_REASON: choice.reason,
    }


class CallTracing:
    """Opens and closes the use case's spans (see the module docstring)."""

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer
        self.enabled = tracer.enabled

    def open(self, ctx: CallContext, surface_span: Span) -> bool:
        """Give the call its span; True when the span is the call's own (to end in :meth:`close`)."""
        own = surface_span is NOOP_SPAN
        span = self._tracer.start(attr.CALL_SPAN) if own else surface_span
        ctx.span = span
        ctx.trace_id = span.trace_id
        if span.recording:
            opened: dict[str, AttributeValue] = {attr.SURFACE: ctx.surface, attr.STREAM: ctx.stream}
            if ctx.request_id:
                opened[attr.REQUEST_ID] = ctx.request_id
            span.set_attributes(opened)
        return own

    def step(self, ctx: CallContext, name: str) -> AbstractContextManager[Span]:
        """A child span of the call around one step (failed if the step raises)."""
        if not self.enabled:
            return _OFF
        return _Step(self._tracer.start(name, parent=ctx.span))

    def close(self, ctx: CallContext, error: BaseException | None, *, own: bool, cache_hit: bool) -> None:
        """Record what the call did on its span; end it when it is the call's own."""
        span = ctx.span
        if span.recording:
            span.set_attributes(_call_attributes(ctx, cache_hit))
            if error is not None and own:
                span.fail(error_type_of(error), str(error) or None)
            elif error is not None:  # the surface sets its span's status (a 4xx is not a server error)
                span.set_attribute(attr.ERROR_TYPE, error_type_of(error))
        if own:
            span.end()


def _call_attributes(ctx: CallContext, cache_hit: bool) -> dict[str, AttributeValue]:
    found: dict[str, AttributeValue] = {attr.COST: ctx.cost, attr.CACHE_HIT: cache_hit}
    principal, route = ctx.principal, ctx.route
    if principal.key_id is not None:
        found[attr.KEY_ID] = principal.key_id
    if principal.team is not None:
        found[attr.TEAM] = principal.team
    group = route.model_group if route is not None else ctx.configured_group
    if group is not None:
        found[attr.MODEL_GROUP] = group
    if route is not None:
        found[attr.DEPLOYMENT] = route.deployment_id
    if ctx.usage_estimated:
        found[attr.USAGE_ESTIMATED] = True
    return found


class _Step:
    """The span of one step: ended when the step ends, failed if it raises."""

    __slots__ = ("_span",)

    def __init__(self, span: Span) -> None:
        self._span = span

    def __enter__(self) -> Span:
        return self._span

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc is not None:
            self._span.fail(error_type_of(exc), str(exc) or None)
        self._span.end()
