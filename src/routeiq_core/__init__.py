"""RouteIQ core: the pure domain of the gateway and routing library.

Imports only the standard library, msgspec, numpy, cachetools and anyio, so it can be used in a
notebook or embedded anywhere without pulling in a web framework or provider SDK.
"""

from routeiq_core._version import read_version
from routeiq_core.errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RouteIQError,
    ServiceUnavailableError,
    UpstreamError,
    UpstreamTimeoutError,
)
from routeiq_core.health import (
    ComponentHealth,
    HealthCheck,
    Lifecycle,
    Phase,
    Readiness,
    ReadinessReport,
)


def __getattr__(name: str) -> str:
    if name == "__version__":
        return read_version()
    raise AttributeError(f"module 'routeiq_core' has no attribute {name!r}")


__all__ = [
    "AuthenticationError",
    "ComponentHealth",
    "ConfigurationError",
    "ConflictError",
    "HealthCheck",
    "InvalidRequestError",
    "Lifecycle",
    "NotFoundError",
    "PermissionDeniedError",
    "Phase",
    "RateLimitError",
    "Readiness",
    "ReadinessReport",
    "RouteIQError",
    "ServiceUnavailableError",
    "UpstreamError",
    "UpstreamTimeoutError",
    "__version__",
]
