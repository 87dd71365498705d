"""Every metric RouteIQ emits, in one place: name, kind, unit, labels, description, buckets.

Code emits through the :class:`~routeiq_core.metrics.Metrics` port with these constants; exporters
(Prometheus ``/metrics``, the in-process JSON) and ``docs/observability.md`` read :data:`METRICS`.
A test fails when code emits a name that is not declared here.

The ``gen_ai.*`` metrics follow the OpenTelemetry GenAI semantic conventions (client side: the
gateway is a client of its upstreams), with their recommended bucket boundaries. ``routeiq_*`` are
the gateway's own. Every label value is bounded by the configuration (configured model group names,
deployment ids, status codes, plugin names) — never a key id, user, or a name a client made up.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

import msgspec

Kind = Literal["counter", "histogram", "gauge"]

# Attribute keys of the GenAI conventions.
OPERATION_NAME = "gen_ai.operation.name"
PROVIDER_NAME = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
TOKEN_TYPE = "gen_ai.token.type"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
ERROR_TYPE = "error.type"

DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


class MetricSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One metric: what it counts, in what unit, by which labels."""

    name: str
    kind: Kind
    unit: str
    labels: tuple[str, ...]
    description: str
    buckets: tuple[float, ...] = ()


_UPSTREAM = (OPERATION_NAME, PROVIDER_NAME, REQUEST_MODEL, SERVER_ADDRESS, SERVER_PORT)
_ROUTE = ("model_group", "deployment")

OPERATION_DURATION = "gen_ai.client.operation.duration"
TOKEN_USAGE = "gen_ai.client.token.usage"
TIME_TO_FIRST_CHUNK = "gen_ai.client.operation.time_to_first_chunk"
REQUESTS = "routeiq_requests"
REQUESTS_SHED = "routeiq_requests_shed"
REQUESTS_IN_FLIGHT = "routeiq_requests_in_flight"
RETRIES = "routeiq_retries"
FALLBACKS = "routeiq_fallbacks"
CONTEXT_WINDOW_FALLBACKS = "routeiq_context_window_fallbacks"
UPSTREAM_FAILURES = "routeiq_upstream_failures"
STREAM_FAILURES = "routeiq_stream_failures"
BREAKER_TRANSITIONS = "routeiq_breaker_transitions"
BREAKER_STATE = "routeiq_breaker_state"
PROMPT_TOKENS = "routeiq_prompt_tokens"
COMPLETION_TOKENS = "routeiq_completion_tokens"
SPEND = "routeiq_spend"
USAGE_ESTIMATED = "routeiq_usage_estimated"
QUOTA_REFUSALS = "routeiq_quota_refusals"
QUOTA_SETTLE_FAILURES = "routeiq_quota_settle_failures"
QUOTA_UNMETERED_REQUESTS = "routeiq_quota_unmetered_requests"
QUOTA_BACKEND_TRANSITIONS = "routeiq_quota_backend_transitions"
PLUGIN_FAILURES = "routeiq_plugin_failures"
PLUGIN_QUARANTINES = "routeiq_plugin_quarantines"
PLUGIN_REFUSALS = "routeiq_plugin_refusals"
PLUGIN_COST = "routeiq_plugin_cost"
PLUGIN_TOKENS = "routeiq_plugin_tokens"
GUARDRAIL_FLAGS = "routeiq_guardrail_flags"
GUARDRAIL_UNAVAILABLE = "routeiq_guardrail_unavailable"
CACHE_REQUESTS = "routeiq_cache_requests"
EVALUATOR_FAILURES = "routeiq_evaluator_failures"
QUALITY_SCORE = "routeiq_quality_score"
PROMPT_INJECTION_SCORE = "routeiq_prompt_injection_score"
SPEND_RECORDS_DROPPED = "routeiq_spend_records_dropped"
SPEND_FLUSH_FAILURES = "routeiq_spend_flush_failures"
REQUEST_LOG_RECORDS_DROPPED = "routeiq_request_log_records_dropped"
REQUEST_LOG_FLUSH_FAILURES = "routeiq_request_log_flush_failures"
MCP_CALLS = "routeiq_mcp_calls"


def _counter(name: str, unit: str, labels: tuple[str, ...], description: str) -> MetricSpec:
    return MetricSpec(name=name, kind="counter", unit=unit, labels=labels, description=description)


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        name=OPERATION_DURATION,
        kind="histogram",
        unit="s",
        labels=(*_UPSTREAM, ERROR_TYPE),
        description="Duration of each upstream attempt (to the last byte of a JSON answer, to the first "
        "chunk of a stream); error.type is the upstream status or `timeout` when it failed.",
        buckets=DURATION_BUCKETS,
    ),
    MetricSpec(
        name=TOKEN_USAGE,
        kind="histogram",
        unit="{token}",
        labels=(*_UPSTREAM, TOKEN_TYPE),
        description="Input and output tokens of each answered call, as the upstream reported them.",
        buckets=TOKEN_BUCKETS,
    ),
    MetricSpec(
        name=TIME_TO_FIRST_CHUNK,
        kind="histogram",
        unit="s",
        labels=_UPSTREAM,
        description="From sending a streaming request upstream to its first chunk.",
        buckets=DURATION_BUCKETS,
    ),
    _counter(REQUESTS, "{request}", ("surface", "status"), "HTTP requests answered, by surface and status."),
    _counter(REQUESTS_SHED, "{request}", (), "Requests refused with 503 because the worker was full."),
    MetricSpec(
        name=REQUESTS_IN_FLIGHT,
        kind="gauge",
        unit="{request}",
        labels=(),
        description="Requests being served now (live workers only).",
    ),
    _counter(RETRIES, "{retry}", ("model",), "Upstream attempts after the first, per requested model."),
    _counter(FALLBACKS, "{fallback}", ("model", "from_group", "to_group"), "Moves to a fallback group."),
    _counter(
        CONTEXT_WINDOW_FALLBACKS,
        "{fallback}",
        ("model", "from_group"),
        "Prompts sent to a context-window fallback because they were too long for the group.",
    ),
    _counter(
        UPSTREAM_FAILURES,
        "{failure}",
        ("model", "deployment", "status"),
        "Failed upstream attempts that count against the deployment (retryable or misconfigured).",
    ),
    _counter(STREAM_FAILURES, "{failure}", _ROUTE, "Streams that broke after their first chunk."),
    _counter(
        BREAKER_TRANSITIONS,
        "{transition}",
        ("deployment", "from_state", "to_state"),
        "Circuit breaker moves between closed, open and half_open.",
    ),
    MetricSpec(
        name=BREAKER_STATE,
        kind="gauge",
        unit="1",
        labels=("deployment", "state"),
        description="1 for each deployment's current breaker state in each live worker (summed over them).",
    ),
    _counter(PROMPT_TOKENS, "{token}", _ROUTE, "Prompt tokens of answered calls."),
    _counter(COMPLETION_TOKENS, "{token}", _ROUTE, "Completion tokens of answered calls."),
    _counter(SPEND, "1", _ROUTE, "Spend of answered calls, in the unit of the configured prices."),
    _counter(
        MCP_CALLS,
        "{call}",
        ("server", "outcome"),
        "MCP tool calls by configured server and outcome: ok, error (the tool answered a JSON-RPC "
        "error) or upstream_error (unreachable, timed out, breaker open).",
    ),
    _counter(
        USAGE_ESTIMATED, "{request}", _ROUTE, "Calls settled on an estimate (the upstream sent no usage)."
    ),
    _counter(
        QUOTA_REFUSALS,
        "{request}",
        ("reason",),
        "Calls refused before routing: rate (a rate limit), budget, or unavailable (the quota store "
        "is down under fail_closed).",
    ),
    _counter(QUOTA_SETTLE_FAILURES, "{request}", (), "Settlements the quota store did not take."),
    _counter(
        QUOTA_UNMETERED_REQUESTS, "{request}", (), "Calls admitted without limits while the store was down."
    ),
    _counter(
        QUOTA_BACKEND_TRANSITIONS,
        "{transition}",
        ("from_state", "to_state", "policy"),
        "Quota store reachability changes.",
    ),
    _counter(PLUGIN_FAILURES, "{failure}", ("plugin", "hook"), "Plugin hooks that raised."),
    _counter(PLUGIN_QUARANTINES, "{quarantine}", ("plugin",), "Plugins taken out after failing."),
    _counter(PLUGIN_REFUSALS, "{request}", ("plugin", "code"), "Requests a plugin refused."),
    _counter(PLUGIN_COST, "1", _ROUTE, "Spend seen by the cost_tracker plugin."),
    _counter(PLUGIN_TOKENS, "{token}", ("kind", *_ROUTE), "Tokens seen by the cost_tracker plugin."),
    _counter(
        GUARDRAIL_FLAGS,
        "{flag}",
        ("guardrail", "category", "action", "stage"),
        "Guardrail verdicts that flagged a request or answer.",
    ),
    _counter(GUARDRAIL_UNAVAILABLE, "{request}", ("guardrail",), "Guardrail calls that could not answer."),
    _counter(CACHE_REQUESTS, "{request}", ("cache", "result"), "Response cache lookups by result."),
    _counter(EVALUATOR_FAILURES, "{failure}", ("evaluator",), "Quality evaluations that failed."),
    MetricSpec(
        name=QUALITY_SCORE,
        kind="histogram",
        unit="1",
        labels=("evaluator", *_ROUTE),
        description="Quality scores given to answers by the evaluator plugin (0 to 1).",
        buckets=SCORE_BUCKETS,
    ),
    MetricSpec(
        name=PROMPT_INJECTION_SCORE,
        kind="histogram",
        unit="1",
        labels=(),
        description="Prompt-injection scores of the prompts the guard checked (0 to 1).",
        buckets=SCORE_BUCKETS,
    ),
    _counter(SPEND_RECORDS_DROPPED, "{record}", (), "Spend records dropped because the buffer was full."),
    _counter(SPEND_FLUSH_FAILURES, "{flush}", (), "Spend ledger flushes that failed (retried later)."),
    _counter(
        REQUEST_LOG_RECORDS_DROPPED,
        "{record}",
        (),
        "Request log records dropped (the oldest first) because the buffer was full.",
    ),
    _counter(REQUEST_LOG_FLUSH_FAILURES, "{flush}", (), "Request log flushes that failed (retried later)."),
)

BY_NAME: Mapping[str, MetricSpec] = MappingProxyType({spec.name: spec for spec in METRICS})
