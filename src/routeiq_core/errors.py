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


class RateLimitError(RouteIQError):
    """A rate limit, quota or budget was exceeded."""

    status_code = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"


class UpstreamTimeoutError(RouteIQError):
    """An upstream did not answer within its deadline."""

    status_code = 408
    error_type = "timeout_error"
    default_code = "timeout"


class UpstreamError(RouteIQError):
    """An upstream provider failed."""

    status_code = 502
    error_type = "api_error"
    default_code = "upstream_error"


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
