"""One exception hierarchy for the whole product.

Every error carries the HTTP status and the OpenAI-style error ``type``/``code`` it maps to, so the
delivery layer turns any of them into ``{"error": {"message", "type", "param", "code"}}`` in one place.
Messages say what was wrong and what to do about it.
"""

from __future__ import annotations

from collections.abc import Mapping


class RouteIQError(Exception):
    """Base class of every error RouteIQ raises on purpose.

    Attributes:
        status_code: HTTP status the error maps to.
        error_type: OpenAI-style error type (``invalid_request_error``, ``api_error``, ...).
        code: Optional machine-readable code.
        param: The request parameter at fault, if any.
        headers: Extra response headers (for example ``Retry-After``).
    """

    status_code: int = 500
    error_type: str = "api_error"
    default_code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code if code is not None else self.default_code
        self.headers: dict[str, str] = dict(headers or {})


class InvalidRequestError(RouteIQError):
    """The request is malformed or names something that does not exist."""

    status_code = 400
    error_type = "invalid_request_error"


class AuthenticationError(RouteIQError):
    """No valid credentials were presented."""

    status_code = 401
    error_type = "authentication_error"
    default_code = "invalid_api_key"


class PermissionDeniedError(RouteIQError):
    """The caller is known but not allowed to do this."""

    status_code = 403
    error_type = "permission_error"


class NotFoundError(RouteIQError):
    """The route, model or object does not exist."""

    status_code = 404
    error_type = "invalid_request_error"
    default_code = "not_found"


class ConflictError(RouteIQError):
    """The request cannot be done in the current state of the server."""

    status_code = 409
    error_type = "invalid_request_error"
    default_code = "conflict"


class RateLimitError(RouteIQError):
    """A rate limit, quota or budget was exceeded."""

    status_code = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"


class UpstreamError(RouteIQError):
    """An upstream provider failed; carries the status to answer with and whether to retry.

    Args:
        message: The upstream's message (or ours when it gave none).
        status_code: Status for the client: the upstream's 4xx/5xx, 502 for a broken upstream.
        retryable: Connect errors, timeouts, 429 and 5xx may succeed on another attempt.
        retry_after_s: The upstream's ``Retry-After``, if it sent one.
        deployment_id: The deployment that failed.
    """

    error_type = "api_error"
    default_code = "upstream_error"

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 502,
        retryable: bool = False,
        retry_after_s: float | None = None,
        deployment_id: str | None = None,
        error_type: str | None = None,
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        headers = {"Retry-After": str(max(1, round(retry_after_s)))} if retry_after_s is not None else None
        super().__init__(message, param=param, code=code, headers=headers)
        self.status_code = status_code
        self.error_type = error_type or _type_for_status(status_code)
        self.retryable = retryable
        self.retry_after_s = retry_after_s
        self.deployment_id = deployment_id

    @property
    def is_context_overflow(self) -> bool:
        """The upstream refused the prompt as longer than its context window."""
        return self.code == "context_length_exceeded"


class UpstreamTimeoutError(UpstreamError):
    """An upstream did not answer within its deadline (retryable, 408)."""

    default_code = "timeout"

    def __init__(self, message: str, *, deployment_id: str | None = None) -> None:
        super().__init__(
            message, status_code=408, retryable=True, deployment_id=deployment_id, error_type="timeout_error"
        )


class UnsafeUpstreamError(UpstreamError):
    """The SSRF guard refused an outbound connection (502, not retryable).

    A config-named upstream (MCP server, A2A agent) that points at a loopback, private, link-local,
    ... address is the gateway's problem, not the caller's, hence a gateway error. A surface that
    checks a URL the *client* sent (a push-notification webhook) turns it into a 400 itself.

    Args:
        host: The host as it was named (never the address it resolved to).
        reason: Why it was refused, for example ``"it resolves to a loopback address"``.
        hint: What to do about it, appended to the message.
    """

    default_code = "unsafe_upstream"

    def __init__(self, host: str, reason: str, *, hint: str | None = None) -> None:
        message = f"refused outbound connection to {host!r}: {reason}"
        super().__init__(f"{message}; {hint}" if hint else message, status_code=502)
        self.host = host
        self.reason = reason


def _type_for_status(status: int) -> str:
    if status == 401:
        return "authentication_error"
    if status == 403:
        return "permission_error"
    if status == 429:
        return "rate_limit_error"
    if status == 408:
        return "timeout_error"
    return "invalid_request_error" if status < 500 else "api_error"


class ServiceUnavailableError(RouteIQError):
    """RouteIQ cannot serve the request now (overloaded, draining, nothing healthy)."""

    status_code = 503
    error_type = "service_unavailable_error"
    default_code = "service_unavailable"


class ConfigurationError(RouteIQError):
    """The configuration is invalid; ``problems`` lists every problem found."""

    status_code = 500
    error_type = "configuration_error"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))
        self.problems = problems
