"""The settings tree: one msgspec Struct per section, every field typed, bounded and described.

Descriptions live in ``msgspec.Meta(description=...)`` so that ``routeiq config docs`` can render the
reference page from this module alone. Environment variables are derived from the field path:
``server.max_concurrent_requests`` is ``ROUTEIQ_SERVER__MAX_CONCURRENT_REQUESTS``.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import Meta

from routeiq_app.settings.audit import AuditSettings
from routeiq_app.settings.base import (
    LogLevel,
    NonNegativeInt,
    Port,
    PositiveFloat,
    PositiveInt,
    _Section,
)
from routeiq_app.settings.deployments import DeploymentSettings
from routeiq_app.settings.files import FilesSettings
from routeiq_app.settings.mcp import McpSettings
from routeiq_app.settings.request_log import RequestLogSettings
from routeiq_app.settings.responses import ResponsesSettings
from routeiq_app.settings.routing import (
    RoutingSettings,
)
from routeiq_core.access import PolicyConfig


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
    drain_timeout_s: Annotated[
        PositiveInt,
        Meta(
            description="On SIGTERM (or a reload's worker restart), how long in-flight requests and streams "
            "may run before the worker is killed."
        ),
    ] = 30
    shed_retry_after_s: Annotated[
        PositiveInt, Meta(description="Retry-After seconds sent with a load-shed 503.")
    ] = 1
    max_request_body_bytes: Annotated[
        PositiveInt, Meta(description="Largest request body accepted; larger ones get 413.")
    ] = 16 * 1024 * 1024
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
    key_hash_secret: Annotated[
        str | None,
        Meta(
            description="Server secret of the HMAC-SHA-256 under which virtual keys are stored (>= 16 "
            "characters; write `os.environ/NAME`). Unset: derived from the master key, so changing the "
            "master key invalidates every virtual key."
        ),
    ] = None
    trusted_proxies: Annotated[
        list[str],
        Meta(description="CIDRs whose X-Forwarded-For is believed for the client address."),
    ] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        if self.key_hash_secret is not None and len(self.key_hash_secret) < 16:
            raise ValueError(
                f"key_hash_secret must be at least 16 characters (it has {len(self.key_hash_secret)})"
            )


class KeysSettings(_Section, frozen=True):
    """Where virtual keys are stored, and teams and spend beside them."""

    backend: Annotated[
        Literal["sqlite", "postgres"], Meta(description="`sqlite` (embedded, a file) or `postgres`.")
    ] = "sqlite"
    sqlite_path: Annotated[
        str,
        Meta(
            description="SQLite file of the key store (teams and spend go to `<name>-teams<suffix>` and "
            "`<name>-spend<suffix>` beside it)."
        ),
    ] = "routeiq-keys.db"
    postgres_dsn: Annotated[
        str | None, Meta(description="PostgreSQL DSN, e.g. `postgresql://user@host/db`.")
    ] = None
    postgres_schema: Annotated[str, Meta(description="PostgreSQL schema of the key tables.")] = "public"
    timeout_s: Annotated[
        PositiveFloat, Meta(description="Longest wait for the key store (and the team and spend stores).")
    ] = 5.0
    cache_ttl_s: Annotated[
        PositiveFloat,
        Meta(description="How long a worker trusts a cached key (bounds how late a revocation bites)."),
    ] = 10.0
    cache_size: Annotated[PositiveInt, Meta(description="Keys cached per worker.")] = 10_000


class QuotaSettings(_Section, frozen=True):
    """Rate limits and budgets, reserved before each call and settled after."""

    backend: Annotated[
        Literal["memory", "redis"],
        Meta(description="`memory` (one process only) or `redis` (exact across workers and nodes)."),
    ] = "memory"
    redis_url: Annotated[str, Meta(description="Redis of the `redis` backend.")] = "redis://127.0.0.1:6379/0"
    namespace: Annotated[str, Meta(description="Prefix separating deployments sharing one Redis.")] = (
        "default"
    )
    timeout_s: Annotated[PositiveFloat, Meta(description="Longest wait for the quota store per call.")] = 0.5
    on_outage: Annotated[
        Literal["fail_open", "fail_closed"],
        Meta(description="While the store is down: admit unmetered, or answer 503."),
    ] = "fail_closed"
    default_max_tokens: Annotated[
        PositiveInt, Meta(description="Output tokens reserved for a request without `max_tokens`.")
    ] = 4096
    max_tokens_ceiling: Annotated[
        Annotated[int, Meta(ge=1, le=2**40)],
        Meta(
            description="The largest `max_tokens` a request may ask for (a 400 above it), so no request "
            "can reserve an absurd amount against shared limits."
        ),
    ] = 1_000_000
    reservation_ttl_s: Annotated[
        PositiveFloat, Meta(description="How long an unsettled reservation is kept (memory backend).")
    ] = 3600.0
    global_limits: Annotated[
        dict[str, float], Meta(description="Limits on all traffic, e.g. `{rpm: 10000, tpm: 2000000}`.")
    ] = msgspec.field(default_factory=dict)
    team_limits: Annotated[
        dict[str, dict[str, float]], Meta(description="Per team (`*`: every team without its own).")
    ] = msgspec.field(default_factory=dict)
    model_group_limits: Annotated[
        dict[str, dict[str, float]], Meta(description="Per model group (`*`: every group without its own).")
    ] = msgspec.field(default_factory=dict)


class PluginsSettings(_Section, frozen=True):
    """Plugins run on the request path, in dependency order.

    Each enabled plugin takes its settings from a key of its own name:
    `plugins: {enabled: [pii_guard], pii_guard: {action: block}}`.
    """

    __collect_unknown__: ClassVar[str] = "sections"

    enabled: Annotated[
        list[str],
        Meta(
            description="Plugins to run: built-in names (pii_guard, prompt_injection_guard, content_filter, "
            "llamaguard, bedrock_guardrails, cost_tracker, evaluator, exact_cache, semantic_cache), a "
            "`routeiq.plugins` entry point, or a dotted path `package.module:Class`."
        ),
    ] = msgspec.field(default_factory=list)
    allowed_capabilities: Annotated[
        list[str] | None,
        Meta(
            description="Capabilities plugins may have (request.read, request.modify, response.read, "
            "response.modify, network, storage); a plugin needing another is refused. Unset: all."
        ),
    ] = None
    sections: Annotated[
        dict[str, dict[str, Any]],
        Meta(description="Per-plugin settings (filled from the keys named after plugins)."),
    ] = msgspec.field(default_factory=dict)


class StateSettings(_Section, frozen=True):
    """Where runtime state shared between workers and nodes lives."""

    redis_url: Annotated[
        str | None,
        Meta(
            description="Redis for shared runtime state: circuit-breaker transitions and conversation "
            "affinity pins (`routing.affinity`). Unset: each worker keeps its own. Write `os.environ/NAME` "
            "if it holds a password."
        ),
    ] = None
    namespace: Annotated[
        str, Meta(description="Prefix separating RouteIQ deployments that share one Redis for state.")
    ] = "default"


class ObservabilitySettings(_Section, frozen=True):
    """Logs, traces and metrics."""

    service_name: Annotated[
        str, Meta(description="Service name in logs and telemetry. Also read from OTEL_SERVICE_NAME.")
    ] = "routeiq"
    metrics_public: Annotated[
        bool,
        Meta(
            description="Serve `GET /metrics` without a key. Off: a key with `metrics.read` (master key, "
            "admin, viewer) is needed, as Prometheus' `authorization` scrape setting sends."
        ),
    ] = False
    metrics_interval_s: Annotated[
        PositiveFloat,
        Meta(description="How often each worker publishes its metrics for the node's `/metrics` (seconds)."),
    ] = 1.0
    tracing: Annotated[
        Literal["auto", "on", "off"],
        Meta(
            description="OpenTelemetry traces (needs the `otel` extra). `auto`: on when "
            "`OTEL_TRACES_EXPORTER` (not `none`) or an `OTEL_EXPORTER_OTLP_*ENDPOINT` variable is set. "
            "Exporters, endpoint, sampler "
            "and resource come from the standard `OTEL_*` variables."
        ),
    ] = "auto"
    otel_metrics: Annotated[
        Literal["auto", "on", "off"],
        Meta(
            description="Export the metrics over OpenTelemetry too (`/metrics` stays). `auto`: on when "
            "`OTEL_METRICS_EXPORTER` (not `none`) or an `OTEL_EXPORTER_OTLP_*ENDPOINT` variable is set."
        ),
    ] = "auto"
    capture_content: Annotated[
        bool,
        Meta(
            description="Put prompts and answers on the upstream spans (`gen_ai.input.messages`, "
            "`gen_ai.output.messages`). Off by default: they may hold anything. Also read from "
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT."
        ),
    ] = False
    request_log: RequestLogSettings = msgspec.field(default_factory=RequestLogSettings)


class ResilienceSettings(_Section, frozen=True):
    """Retries, deadlines and circuit breakers."""

    num_retries: Annotated[
        NonNegativeInt, Meta(description="Retries per model group after the first attempt.")
    ] = 2
    retry_base_delay_s: Annotated[
        PositiveFloat, Meta(description="Backoff scale: retry n waits up to base * 2^(n-1) (full jitter).")
    ] = 0.1
    retry_max_delay_s: Annotated[
        PositiveFloat, Meta(description="Longest single backoff, also the cap on an upstream Retry-After.")
    ] = 5.0
    request_timeout_s: Annotated[
        PositiveFloat, Meta(description="Overall deadline of one request across all attempts.")
    ] = 600.0
    default_timeout_s: Annotated[
        PositiveFloat, Meta(description="Per-call timeout of deployments that set none.")
    ] = 60.0
    breaker_failure_threshold: Annotated[
        PositiveInt, Meta(description="Consecutive failures that open a deployment's circuit breaker.")
    ] = 5
    breaker_cooldown_s: Annotated[
        PositiveFloat, Meta(description="Seconds an open breaker waits before letting a probe through.")
    ] = 30.0


class Settings(_Section, frozen=True):
    """The whole RouteIQ configuration."""

    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    model_list: Annotated[
        list[DeploymentSettings],
        Meta(description="Deployments, LiteLLM-compatible. Environment: a JSON array in ROUTEIQ_MODEL_LIST."),
    ] = msgspec.field(default_factory=list)
    routing: RoutingSettings = msgspec.field(default_factory=RoutingSettings)
    resilience: ResilienceSettings = msgspec.field(default_factory=ResilienceSettings)
    security: SecuritySettings = msgspec.field(default_factory=SecuritySettings)
    keys: KeysSettings = msgspec.field(default_factory=KeysSettings)
    quota: QuotaSettings = msgspec.field(default_factory=QuotaSettings)
    policy: PolicyConfig = msgspec.field(default_factory=PolicyConfig)
    plugins: PluginsSettings = msgspec.field(default_factory=PluginsSettings)
    state: StateSettings = msgspec.field(default_factory=StateSettings)
    observability: ObservabilitySettings = msgspec.field(default_factory=ObservabilitySettings)
    audit: AuditSettings = msgspec.field(default_factory=AuditSettings)
    responses: ResponsesSettings = msgspec.field(default_factory=ResponsesSettings)
    files: FilesSettings = msgspec.field(default_factory=FilesSettings)
    mcp: McpSettings = msgspec.field(default_factory=McpSettings)
