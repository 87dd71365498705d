"""What one request's attempts have done so far, and how the gateway judges a failed attempt."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.errors import InvalidRequestError, UpstreamError, UpstreamTimeoutError
from routeiq_core.operations import Operation

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


def deployment_fault(d: Deployment, exc: UpstreamError) -> bool:
    """Whether a non-retryable upstream error says the deployment is misconfigured (fail over)."""
    if d.wildcard and exc.status_code == _CLIENT_MODEL_FAULT:
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
