"""Errors of access control: exceeded limits and budgets, an unreachable quota backend.

They subclass the product hierarchy in :mod:`routeiq_core.errors`, so the delivery layer maps them to
OpenAI-style responses (status, ``type``, ``code``, ``Retry-After``) without knowing them.
"""

from __future__ import annotations

import math

from routeiq_core.errors import RateLimitError, RouteIQError, ServiceUnavailableError


def retry_after_header(seconds: float) -> dict[str, str]:
    """A ``Retry-After`` header in whole seconds, never below one."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


class QuotaExceededError(RateLimitError):
    """A request would exceed a rate limit (429, ``rate_limit_exceeded``).

    Attributes:
        scope: Whose limit: ``key``, ``team``, ``model_group`` or ``global``.
        scope_id: The key id, team, model group (``*`` for global).
        metric: What is counted: ``requests``, ``input_tokens``, ``output_tokens``, ``total_tokens``
            or ``spend``.
        window: ``minute``, ``hour``, ``day`` or ``month``.
        limit: The configured limit (spend in price units).
        current: Usage counted in the window when the request arrived (same unit as ``limit``).
        retry_after_s: Seconds until the request could fit (also the ``Retry-After`` header).
    """

    def __init__(
        self,
        message: str,
        *,
        scope: str,
        scope_id: str,
        metric: str,
        window: str,
        limit: float,
        current: float,
        retry_after_s: float,
    ) -> None:
        super().__init__(message, headers=retry_after_header(retry_after_s))
        self.scope = scope
        self.scope_id = scope_id
        self.metric = metric
        self.window = window
        self.limit = limit
        self.current = current
        self.retry_after_s = retry_after_s


class BudgetExceededError(QuotaExceededError):
    """A request would spend beyond a budget (429, ``budget_exceeded``)."""

    default_code = "budget_exceeded"


class QuotaUnavailableError(ServiceUnavailableError):
    """The quota backend is unreachable and the outage policy is ``fail_closed`` (503)."""

    default_code = "quota_unavailable"

    def __init__(self, message: str, *, retry_after_s: float = 1.0) -> None:
        super().__init__(message, headers=retry_after_header(retry_after_s))


class QuotaStoreError(RouteIQError):
    """A quota store could not answer (connection refused, timeout, protocol error).

    Adapters raise it (chaining the driver's exception) so the core can apply the outage policy
    without importing any driver.
    """

    default_code = "quota_store_error"


class QuotaDataError(RouteIQError):
    """The quota store refused one request's amounts (a script or data error): not an outage (500).

    Only that request fails; the outage monitor is not told, so other callers are unaffected.
    """

    default_code = "quota_data_error"


class KeyStoreError(RouteIQError):
    """A key store could not answer; authentication fails closed with 503 rather than admit."""

    status_code = 503
    error_type = "service_unavailable_error"
    default_code = "key_store_unavailable"
