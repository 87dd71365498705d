"""Every span and span attribute RouteIQ emits, in one place (``docs/observability.md`` is made from it).

Upstream attempts follow the OpenTelemetry GenAI semantic conventions (v1.41, client spans:
the gateway is a client of its upstreams); HTTP requests the HTTP server conventions; ``routeiq.*``
attributes are the gateway's own. A test fails when code sets an attribute that is not declared here.
"""

from __future__ import annotations

from typing import Literal

import msgspec

AttributeType = Literal["string", "int", "double", "boolean", "string[]"]

# Span names (``{operation} {model}`` for upstream attempts, per the GenAI conventions).
SERVER_SPAN = "{http.request.method} {http.route}"
CALL_SPAN = "routeiq.call"
ROUTE_SPAN = "routeiq.route"
QUOTA_SPAN = "routeiq.quota.reserve"
PLUGINS_SPAN = "routeiq.plugins.{hook}"
ATTEMPT_SPAN = "{gen_ai.operation.name} {gen_ai.request.model}"

# HTTP server.
HTTP_METHOD = "http.request.method"
HTTP_ROUTE = "http.route"
HTTP_STATUS = "http.response.status_code"
URL_PATH = "url.path"
URL_SCHEME = "url.scheme"
CLIENT_ADDRESS = "client.address"
USER_AGENT = "user_agent.original"
ERROR_TYPE = "error.type"

# GenAI client (upstream attempts).
OPERATION_NAME = "gen_ai.operation.name"
PROVIDER_NAME = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
REQUEST_TEMPERATURE = "gen_ai.request.temperature"
REQUEST_TOP_P = "gen_ai.request.top_p"
REQUEST_FREQUENCY_PENALTY = "gen_ai.request.frequency_penalty"
REQUEST_PRESENCE_PENALTY = "gen_ai.request.presence_penalty"
REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences"
REQUEST_SEED = "gen_ai.request.seed"
REQUEST_CHOICE_COUNT = "gen_ai.request.choice.count"
RESPONSE_ID = "gen_ai.response.id"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"

# RouteIQ's own.
REQUEST_ID = "routeiq.request_id"
SURFACE = "routeiq.surface"
KEY_ID = "routeiq.key_id"
TEAM = "routeiq.team"
MODEL_GROUP = "routeiq.model_group"
DEPLOYMENT = "routeiq.deployment"
STRATEGY = "routeiq.strategy"
ATTEMPT = "routeiq.attempt"
FALLBACK = "routeiq.fallback"
STREAM = "routeiq.stream"
CACHE_HIT = "routeiq.cache_hit"
COST = "routeiq.cost"
USAGE_ESTIMATED = "routeiq.usage_estimated"
ROUTED_ROUTER = "routeiq.routed.router"
ROUTED_MODEL_GROUP = "routeiq.routed.model_group"
ROUTED_REASON = "routeiq.routed.reason"
QUOTA_OUTCOME = "routeiq.quota.outcome"
PLUGINS = "routeiq.plugins"


class SpanAttribute(msgspec.Struct, frozen=True, kw_only=True):
    """One attribute: its key, type, the spans that carry it, what it means."""

    key: str
    type: AttributeType
    spans: tuple[str, ...]
    description: str


_SERVER, _CALL, _ATTEMPT = SERVER_SPAN, CALL_SPAN, ATTEMPT_SPAN
_CALLS = (_SERVER, _CALL)


def _attr(key: str, kind: AttributeType, spans: tuple[str, ...], description: str) -> SpanAttribute:
    return SpanAttribute(key=key, type=kind, spans=spans, description=description)


SPAN_ATTRIBUTES: tuple[SpanAttribute, ...] = (
    _attr(HTTP_METHOD, "string", (_SERVER,), "The HTTP method."),
    _attr(HTTP_ROUTE, "string", (_SERVER,), "The route served (a call path; absent for unknown paths)."),
    _attr(HTTP_STATUS, "int", (_SERVER,), "The response status."),
    _attr(URL_PATH, "string", (_SERVER,), "The request path."),
    _attr(URL_SCHEME, "string", (_SERVER,), "http or https."),
    _attr(CLIENT_ADDRESS, "string", (_SERVER,), "The peer's address."),
    _attr(USER_AGENT, "string", (_SERVER,), "The client's User-Agent."),
    _attr(
        ERROR_TYPE,
        "string",
        (_SERVER, _CALL, _ATTEMPT, QUOTA_SPAN),
        "Why it failed: the status code (server, attempts), `timeout`, or the error type of a refusal.",
    ),
    _attr(OPERATION_NAME, "string", (_ATTEMPT,), "`chat`, `text_completion` or `embeddings`."),
    _attr(PROVIDER_NAME, "string", (_ATTEMPT,), "The upstream's provider (`openai`, ...)."),
    _attr(REQUEST_MODEL, "string", (_ATTEMPT,), "The model asked of the upstream (the deployment's)."),
    _attr(REQUEST_MAX_TOKENS, "int", (_ATTEMPT,), "`max_tokens` / `max_completion_tokens` of the request."),
    _attr(REQUEST_TEMPERATURE, "double", (_ATTEMPT,), "`temperature` of the request."),
    _attr(REQUEST_TOP_P, "double", (_ATTEMPT,), "`top_p` of the request."),
    _attr(REQUEST_FREQUENCY_PENALTY, "double", (_ATTEMPT,), "`frequency_penalty` of the request."),
    _attr(REQUEST_PRESENCE_PENALTY, "double", (_ATTEMPT,), "`presence_penalty` of the request."),
    _attr(REQUEST_STOP_SEQUENCES, "string[]", (_ATTEMPT,), "`stop` of the request."),
    _attr(REQUEST_SEED, "int", (_ATTEMPT,), "`seed` of the request."),
    _attr(REQUEST_CHOICE_COUNT, "int", (_ATTEMPT,), "`n` of the request, when not 1."),
    _attr(RESPONSE_ID, "string", (_ATTEMPT,), "The upstream's answer id."),
    _attr(RESPONSE_MODEL, "string", (_ATTEMPT,), "The model that answered, as the upstream says."),
    _attr(RESPONSE_FINISH_REASONS, "string[]", (_ATTEMPT,), "Each choice's finish reason."),
    _attr(USAGE_INPUT_TOKENS, "int", (_ATTEMPT,), "Input tokens the upstream reported."),
    _attr(USAGE_OUTPUT_TOKENS, "int", (_ATTEMPT,), "Output tokens the upstream reported."),
    _attr(
        INPUT_MESSAGES,
        "string",
        (_ATTEMPT,),
        "The request's messages as JSON — only with `observability.capture_content`.",
    ),
    _attr(
        OUTPUT_MESSAGES,
        "string",
        (_ATTEMPT,),
        "The answer's choices as JSON (not for streams) — only with `observability.capture_content`.",
    ),
    _attr(SERVER_ADDRESS, "string", (_ATTEMPT,), "The upstream's host."),
    _attr(SERVER_PORT, "int", (_ATTEMPT,), "The upstream's port."),
    _attr(REQUEST_ID, "string", (_SERVER, _CALL), "The request id (`X-Request-ID`)."),
    _attr(SURFACE, "string", _CALLS, "The protocol the call arrived in."),
    _attr(KEY_ID, "string", _CALLS, "The caller's virtual key id (never the key)."),
    _attr(TEAM, "string", _CALLS, "The caller's team."),
    _attr(MODEL_GROUP, "string", (*_CALLS, _ATTEMPT), "The model group (a wildcard group's pattern)."),
    _attr(DEPLOYMENT, "string", (*_CALLS, _ATTEMPT), "The deployment (on the call: the one that served)."),
    _attr(STRATEGY, "string", (_ATTEMPT,), "The routing strategy that ordered the deployments."),
    _attr(ATTEMPT, "int", (_ATTEMPT,), "The attempt's number in the call (1 for the first)."),
    _attr(FALLBACK, "boolean", (_ATTEMPT,), "True when the attempt went to a fallback group."),
    _attr(STREAM, "boolean", (*_CALLS, _ATTEMPT), "Whether the answer streams."),
    _attr(CACHE_HIT, "boolean", _CALLS, "True when a plugin (a cache) answered without an upstream."),
    _attr(COST, "double", _CALLS, "What the call cost."),
    _attr(USAGE_ESTIMATED, "boolean", _CALLS, "True when the usage was estimated (no usage reported)."),
    _attr(ROUTED_ROUTER, "string", (ROUTE_SPAN,), "The trained router that chose for a routed model name."),
    _attr(ROUTED_MODEL_GROUP, "string", (ROUTE_SPAN,), "The model group it chose."),
    _attr(ROUTED_REASON, "string", (ROUTE_SPAN,), "Why it chose it."),
    _attr(QUOTA_OUTCOME, "string", (QUOTA_SPAN,), "`reserved`, or `rate`, `budget`, `unavailable`."),
    _attr(PLUGINS, "string[]", (PLUGINS_SPAN,), "The enabled plugins whose hooks ran."),
)
"""Every span attribute, in the order of ``docs/observability.md``."""
