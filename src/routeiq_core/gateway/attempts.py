"""What one request's attempts have done so far, and how the gateway judges a failed attempt."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable

from routeiq_core.catalog import Deployment, ModelCatalog, ModelGroup
from routeiq_core.context import CallContext
from routeiq_core.errors import (
    InvalidRequestError,
    ServiceUnavailableError,
    UpstreamError,
    UpstreamTimeoutError,
)
from routeiq_core.operations import Operation
from routeiq_core.resilience.circuit_breaker import BreakerRegistry

logger = logging.getLogger("routeiq.gateway")

BeforeCall = Callable[[Deployment], Awaitable[None]]
"""Awaited before each attempt with the deployment it goes to (plugins' ``before_call``)."""
# Upstream answers that say "this deployment is misconfigured", not "this request is bad".
_DEPLOYMENT_FAULTS = frozenset({401, 403, 404})
# ...except a 404 from a deployment whose upstream model came from the request (a wildcard group's):
# the client asked for a model the provider does not have, which says nothing of the deployment.
_CLIENT_MODEL_FAULT = 404


class Progress:
    """What one request's attempts have done so far."""

    def __init__(self, deadline: float, before_call: BeforeCall | None) -> None:
        self.deadline = deadline
        self.before_call = before_call
        self.attempts = 0
        self.last_error: UpstreamError | None = None
        self.overflowed = False
        self.unroutable: list[str] = []
        self.first_group: str | None = None


def deployment_fault(d: Deployment, exc: UpstreamError, pinned: str | None = None) -> bool:
    """Whether a non-retryable upstream error says the deployment is misconfigured (fail over).

    A call ``pinned`` to a deployment is about an object there: its 404 is the object's (a file the
    provider deleted), not the deployment's.
    """
    if (d.wildcard or pinned is not None) and exc.status_code == _CLIENT_MODEL_FAULT:
        return False
    return exc.status_code in _DEPLOYMENT_FAULTS


def error_type(exc: UpstreamError) -> str:
    """``error.type`` of a failed attempt: ``timeout``, or the upstream's status code."""
    return "timeout" if exc.error_type == "timeout_error" else str(exc.status_code)


def label(group: ModelGroup) -> str:
    """The group's name for metrics and spend: a wildcard group's configured name, so labels stay bounded."""
    return group.pattern or group.name


def fits(d: Deployment, tokens: int) -> bool:
    """Whether a prompt of about ``tokens`` fits the deployment's context window."""
    return d.max_context_tokens is None or tokens <= d.max_context_tokens


def eligible(d: Deployment, request: CallContext) -> bool:
    """Whether ``d`` may take the request: it serves the operation, the prompt fits, it is the pinned one.

    A call pinned to a deployment (a stored file or batch lives on one) may go to no other.
    """
    pinned = request.pinned_deployment
    return (
        d.serves(request.operation)
        and fits(d, request.estimated_prompt_tokens)
        and (pinned is None or d.id == pinned)
    )


def deadline_error(model: str, timeout_s: float, progress: Progress) -> UpstreamError:
    """The error of a call whose request deadline passed before any deployment answered."""
    last = progress.last_error
    detail = f"; last error: {last.message}" if last else ""
    return UpstreamTimeoutError(
        f"No deployment of {model!r} answered within the {timeout_s:g}s request deadline "
        f"({progress.attempts} attempts){detail}"
    )


def unsupported_operation(group: ModelGroup, operation: Operation) -> InvalidRequestError:
    """The 400 of a request for an operation no deployment of its model group is configured to serve."""
    served = sorted({o.value for d in group.deployments for o in d.operations or ()})
    return InvalidRequestError(
        f"The model {group.name!r} cannot serve {operation.value}: its deployments serve "
        f"{', '.join(served) or 'nothing'} (model_info.mode). Use a model configured for {operation.value}.",
        param="model",
        code="unsupported_operation",
    )


def exhausted(
    catalog: ModelCatalog, breakers: BreakerRegistry, model: str, groups: list[str], progress: Progress
) -> Exception:
    """The error of a call no deployment of ``groups`` answered: the last upstream error, else a 503.

    The 503 (every breaker open) carries ``Retry-After``: the soonest any of their breakers half-opens.
    """
    last = progress.last_error
    if last is not None:
        logger.warning("%s failed after %d attempts over %s", model, progress.attempts, ", ".join(groups))
        return last
    waits = [
        breakers.get(d.id).retry_after_s()
        for name in groups
        if (g := catalog.get(name)) is not None
        for d in g.deployments
    ]
    retry_after = max(1, math.ceil(min(waits, default=1.0)))
    return ServiceUnavailableError(
        f"Every deployment of {', '.join(groups)} is unavailable (circuit open). Retry after {retry_after}s.",
        code="no_healthy_deployment",
        headers={"Retry-After": str(retry_after)},
    )
