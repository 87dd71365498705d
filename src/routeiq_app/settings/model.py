"""The settings tree: one msgspec Struct per section, every field typed, bounded and described.

Descriptions live in ``msgspec.Meta(description=...)`` so that ``routeiq config docs`` can render the
reference page from this module alone. Environment variables are derived from the field path:
``server.max_concurrent_requests`` is ``ROUTEIQ_SERVER__MAX_CONCURRENT_REQUESTS``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

PositiveInt = Annotated[int, Meta(ge=1)]
PositiveFloat = Annotated[float, Meta(gt=0)]
Port = Annotated[int, Meta(ge=1, le=65535)]
LogLevel = Literal["debug", "info", "warning", "error"]


class _Section(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Base of every settings section: unknown keys are errors, values are immutable."""


class ServerSettings(_Section, frozen=True):
    """How the HTTP server listens and protects itself."""

    host: Annotated[str, Meta(description="Address to bind. Loopback by default.")] = "127.0.0.1"
    port: Annotated[Port, Meta(description="TCP port to listen on.")] = 4000
    workers: Annotated[
        PositiveInt, Meta(description="Worker processes started by `routeiq serve` (granian workers).")
    ] = 1
    max_concurrent_requests: Annotated[
        PositiveInt,
        Meta(
            description="Requests one worker serves at once (streams hold a slot until they end); "
            "beyond it requests are shed with 503 and Retry-After. Health routes are exempt."
        ),
    ] = 512
    shed_retry_after_s: Annotated[
        PositiveInt, Meta(description="Retry-After seconds sent with a load-shed 503.")
    ] = 1
    cors_origins: Annotated[
        list[str],
        Meta(description="Origins allowed by CORS (`*` for any). Empty disables CORS headers."),
    ] = msgspec.field(default_factory=list)
    log_level: Annotated[LogLevel, Meta(description="Minimum level of log records.")] = "info"
    log_format: Annotated[
        Literal["auto", "json", "text"],
        Meta(description="`json` lines, human `text`, or `auto`: json unless stderr is a terminal."),
    ] = "auto"


class SecuritySettings(_Section, frozen=True):
    """Who may call the gateway."""

    master_key: Annotated[
        str | None,
        Meta(
            description="Admin bearer key. Write `os.environ/NAME` to read it from a variable. "
            "Unset: the gateway runs open, which `serve` allows only on a loopback address."
        ),
    ] = None
    allow_open_non_loopback: Annotated[
        bool,
        Meta(description="Let `serve` bind a non-loopback address without a master key (unsafe)."),
    ] = False


class ObservabilitySettings(_Section, frozen=True):
    """Logs, traces and metrics."""

    service_name: Annotated[
        str, Meta(description="Service name in logs and telemetry. Also read from OTEL_SERVICE_NAME.")
    ] = "routeiq"


class Settings(_Section, frozen=True):
    """The whole RouteIQ configuration."""

    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    security: SecuritySettings = msgspec.field(default_factory=SecuritySettings)
    observability: ObservabilitySettings = msgspec.field(default_factory=ObservabilitySettings)
