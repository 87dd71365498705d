"""The fate of every LiteLLM proxy config key RouteIQ knows: mapped, ignored or refused.

:data:`RULES` is the one table: :mod:`routeiq_app.settings.litellm` applies it and
``docs/litellm-migration.md`` shows it (:func:`render_migration_table`, checked by a test).

- ``mapped``: set on the RouteIQ key with the same meaning;
- ``ignored``: accepted, with a one-line notice saying why (a feature RouteIQ does differently);
- ``refused``: a configuration error naming the RouteIQ equivalent (ignoring it would silently
  drop a guard the config asks for).

A key of a LiteLLM section that is not in the table is ignored with a notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

import msgspec

Fate = Literal["mapped", "ignored", "refused"]


class Rule(msgspec.Struct, frozen=True):
    """The fate of one LiteLLM key (``where`` is ``section.key``; ``[*]`` stands for every entry)."""

    where: str
    fate: Fate
    equivalent: str
    note: str


STRATEGIES: Mapping[str, str] = MappingProxyType(
    {
        "simple-shuffle": "simple-shuffle",
        "shuffle": "simple-shuffle",
        "least-busy": "least-busy",
        "latency-based-routing": "latency-based",
        "usage-based-routing": "usage-based",
        "usage-based-routing-v2": "usage-based",
        "cost-based-routing": "cost-based",
    }
)
"""LiteLLM's routing strategy names and RouteIQ's."""

CALLBACKS: Mapping[str, str] = MappingProxyType(
    {
        "prometheus": "RouteIQ serves Prometheus metrics at /metrics (the whole node)",
        "otel": "RouteIQ does not export OpenTelemetry traces yet; its GenAI metrics are at /metrics",
    }
)
"""Callbacks RouteIQ has a counterpart of (every other callback is a LiteLLM integration)."""

_SAME = "same shape: `[{group: [fallback, ...]}]`"
_RETRIES = "retries after the first attempt"
_PER_CALL = "per-call timeout of deployments that set none"
_REDIS = "limits and routing state shared through this Redis"
_NO_FILES_API = "RouteIQ does not serve this API"

RULES: tuple[Rule, ...] = (
    # litellm_settings
    Rule("litellm_settings.num_retries", "mapped", "resilience.num_retries", _RETRIES),
    Rule("litellm_settings.request_timeout", "mapped", "resilience.default_timeout_s", _PER_CALL),
    Rule("litellm_settings.fallbacks", "mapped", "routing.fallbacks", _SAME),
    Rule("litellm_settings.context_window_fallbacks", "mapped", "routing.context_window_fallbacks", _SAME),
    Rule(
        "litellm_settings.default_fallbacks",
        "mapped",
        "routing.fallbacks",
        "the fallbacks of every group that has none of its own",
    ),
    Rule(
        "litellm_settings.cache",
        "mapped",
        "plugins.enabled: [exact_cache]",
        "`true` enables the exact-match response cache",
    ),
    Rule(
        "litellm_settings.cache_params",
        "mapped",
        "plugins.exact_cache",
        "`type` local or redis, `host`/`port`/`password` (the Redis URL), `ttl`; other keys ignored",
    ),
    Rule(
        "litellm_settings.max_budget",
        "mapped",
        "quota.global_limits.spend_per_<window>",
        "a spend limit on all traffic over `budget_duration` (30d when unset)",
    ),
    Rule(
        "litellm_settings.budget_duration",
        "mapped",
        "quota.global_limits",
        "the window of `max_budget`: 1h, 1d/24h or 30d/1mo (RouteIQ's windows are fixed hours, days, months)",
    ),
    Rule(
        "litellm_settings.drop_params",
        "ignored",
        "litellm_params.drop_params",
        "RouteIQ passes parameters to OpenAI-compatible upstreams untouched; for a LiteLLM-served "
        "deployment write `drop_params: true` in its litellm_params",
    ),
    Rule(
        "litellm_settings.callbacks",
        "ignored",
        "-",
        "LiteLLM integrations; prometheus: /metrics; otel: no trace export yet (metrics at /metrics)",
    ),
    Rule("litellm_settings.success_callback", "ignored", "-", "as `callbacks`"),
    Rule("litellm_settings.failure_callback", "ignored", "-", "as `callbacks`"),
    Rule("litellm_settings.set_verbose", "ignored", "server.log_level", "RouteIQ logs at server.log_level"),
    Rule("litellm_settings.json_logs", "ignored", "server.log_format", "RouteIQ logs JSON lines by default"),
    Rule(
        "litellm_settings.guardrails",
        "refused",
        "plugins.enabled",
        "RouteIQ's guardrails are plugins: pii_guard, prompt_injection_guard, content_filter, llamaguard, "
        "bedrock_guardrails",
    ),
    # router_settings
    Rule(
        "router_settings.routing_strategy",
        "mapped",
        "routing.strategy",
        "simple-shuffle, least-busy, latency-based-routing, usage-based-routing(-v2), cost-based-routing "
        "become simple-shuffle, least-busy, latency-based, usage-based, cost-based",
    ),
    Rule("router_settings.num_retries", "mapped", "resilience.num_retries", _RETRIES),
    Rule("router_settings.timeout", "mapped", "resilience.default_timeout_s", _PER_CALL),
    Rule(
        "router_settings.allowed_fails",
        "mapped",
        "resilience.breaker_failure_threshold",
        "failures a deployment may have; the next one takes it out of rotation (threshold = value + 1)",
    ),
    Rule("router_settings.cooldown_time", "mapped", "resilience.breaker_cooldown_s", "how long it stays out"),
    Rule(
        "router_settings.redis_host",
        "mapped",
        "quota.backend: redis, quota.redis_url, state.redis_url",
        f"with `redis_port` and `redis_password`: {_REDIS}",
    ),
    Rule("router_settings.redis_port", "mapped", "quota.redis_url, state.redis_url", "as `redis_host`"),
    Rule("router_settings.redis_password", "mapped", "quota.redis_url, state.redis_url", "as `redis_host`"),
    Rule(
        "router_settings.redis_url",
        "mapped",
        "quota.backend: redis, quota.redis_url, state.redis_url",
        _REDIS,
    ),
    Rule(
        "router_settings.model_group_alias",
        "mapped",
        "routing.model_group_alias",
        "`{alias: group}` or `{alias: {model: group}}`",
    ),
    Rule("router_settings.fallbacks", "mapped", "routing.fallbacks", _SAME),
    Rule("router_settings.context_window_fallbacks", "mapped", "routing.context_window_fallbacks", _SAME),
    Rule("router_settings.default_fallbacks", "mapped", "routing.fallbacks", "as in litellm_settings"),
    Rule(
        "router_settings.enable_tag_filtering",
        "mapped",
        "routing.tag_filtering",
        "requests carrying tags go only to deployments with every tag",
    ),
    Rule(
        "router_settings.retry_policy",
        "ignored",
        "resilience.num_retries",
        "RouteIQ retries timeouts, 429 and 5xx; other errors go to the client, or to the next deployment "
        "when they say the deployment is misconfigured",
    ),
    Rule(
        "router_settings.allowed_fails_policy", "ignored", "resilience.breaker_failure_threshold", "as above"
    ),
    Rule(
        "router_settings.enable_pre_call_checks",
        "ignored",
        "-",
        "RouteIQ always checks context windows and deployment limits before routing",
    ),
    Rule(
        "router_settings.routing_strategy_args",
        "ignored",
        "-",
        "RouteIQ's strategies take their windows from the routing section",
    ),
    # general_settings
    Rule("general_settings.master_key", "mapped", "security.master_key", "the admin key"),
    Rule(
        "general_settings.database_url",
        "mapped",
        "keys.backend: postgres, keys.postgres_dsn",
        "keys, teams and spend in PostgreSQL",
    ),
    Rule(
        "general_settings.global_max_parallel_requests",
        "mapped",
        "server.max_concurrent_requests",
        "requests served at once; more are shed with 503 and Retry-After",
    ),
    Rule(
        "general_settings.alerting",
        "ignored",
        "-",
        "RouteIQ has no alerting integrations; alert on /health/ready and /metrics",
    ),
    Rule("general_settings.alert_types", "ignored", "-", "as `alerting`"),
    Rule("general_settings.alerting_threshold", "ignored", "-", "as `alerting`"),
    Rule("general_settings.store_model_in_db", "ignored", "-", "RouteIQ's models come from this config"),
    Rule(
        "general_settings.disable_spend_logs",
        "ignored",
        "-",
        "RouteIQ keeps aggregated spend, not a log of every request",
    ),
    Rule(
        "general_settings.custom_auth",
        "refused",
        "security.master_key, /admin/keys",
        "RouteIQ authenticates the master key and the virtual keys it issues",
    ),
    Rule("general_settings.enable_jwt_auth", "refused", "/admin/keys", "RouteIQ has no JWT authentication"),
    Rule("general_settings.litellm_jwtauth", "refused", "/admin/keys", "as `enable_jwt_auth`"),
    Rule(
        "general_settings.allowed_ips",
        "refused",
        "a network policy or reverse proxy",
        "RouteIQ does not filter client addresses",
    ),
    Rule(
        "general_settings.allowed_routes",
        "refused",
        "policy",
        "RouteIQ's policy rules decide what each key may call",
    ),
    # environment_variables
    Rule(
        "environment_variables.*",
        "mapped",
        "the process environment",
        "set (overriding the environment, as LiteLLM does) before `os.environ/NAME` values are resolved",
    ),
    # other top-level sections
    Rule(
        "credential_list",
        "mapped",
        "model_list[*].litellm_params",
        "the `credential_values` of each credential are copied into the deployments naming it in "
        "`litellm_credential_name` (their own values win)",
    ),
    Rule(
        "mcp_servers",
        "ignored",
        "-",
        "RouteIQ's MCP gateway is not available yet; these servers are not served",
    ),
    Rule("guardrails", "refused", "plugins.enabled", "as `litellm_settings.guardrails`"),
    Rule(
        "files_settings",
        "ignored",
        "model_list[].model_info.supports_files",
        "files and batches go to the deployments of a model (docs/gateway.md)",
    ),
    Rule("finetune_settings", "ignored", "-", _NO_FILES_API),
    Rule("assistant_settings", "ignored", "-", _NO_FILES_API),
    # model_list entries
    Rule(
        "model_list[*].rpm",
        "mapped",
        "model_list[*].litellm_params.rpm",
        "the deployment's requests per minute",
    ),
    Rule(
        "model_list[*].tpm",
        "mapped",
        "model_list[*].litellm_params.tpm",
        "the deployment's tokens per minute",
    ),
    Rule(
        "model_list[*].litellm_params.<provider keys>",
        "mapped",
        "model_list[*].litellm_params",
        "`api_version`, `aws_*`, `vertex_*` and other provider keys go to LiteLLM-served deployments, "
        "`os.environ/NAME` resolved",
    ),
    Rule(
        "model_list[*].litellm_params.organization",
        "mapped",
        "the OpenAI-Organization header",
        "sent by OpenAI-compatible deployments (LiteLLM-served ones get it as a parameter)",
    ),
    Rule(
        "model_list[*].litellm_params.extra_headers",
        "mapped",
        "request headers",
        "sent with every call of the deployment",
    ),
    Rule(
        "model_list[*].litellm_params.max_retries",
        "ignored",
        "resilience.num_retries",
        "RouteIQ retries itself (a LiteLLM retry inside each attempt would multiply the attempts)",
    ),
    Rule(
        "model_list[*].litellm_params.stream_timeout",
        "ignored",
        "litellm_params.timeout",
        "on OpenAI-compatible deployments `timeout` bounds the wait for the first stream data",
    ),
    Rule(
        "model_list[*].litellm_params.drop_params",
        "ignored",
        "-",
        "on OpenAI-compatible deployments parameters pass through untouched",
    ),
    Rule("model_list[*].model_info.id", "mapped", "model_info.id", "the deployment id"),
    Rule(
        "model_list[*].model_info.max_input_tokens",
        "mapped",
        "model_info.max_input_tokens",
        "the context window",
    ),
    Rule(
        "model_list[*].model_info.input_cost_per_token",
        "mapped",
        "model_info.input_price_per_mtok",
        "times one million (a price in litellm_params wins)",
    ),
    Rule(
        "model_list[*].model_info.output_cost_per_token",
        "mapped",
        "model_info.output_price_per_mtok",
        "times one million (a price in litellm_params wins)",
    ),
    Rule(
        "model_list[*].model_info.base_model",
        "mapped",
        "model_info.base_model",
        "the model whose price and context window the price map gives this deployment",
    ),
    Rule(
        "model_list[*].model_info.mode",
        "mapped",
        "model_info.mode",
        "chat, completion, responses, embedding, moderation, image_generation, image_edit, rerank, "
        "audio_speech and audio_transcription pick the operations a deployment serves; others are ignored",
    ),
    Rule(
        "model_list[*].model_info.input_cost_per_character",
        "mapped",
        "model_info.media_prices",
        "`input_cost_per_character`, `input_cost_per_second`, `input_cost_per_pixel` and "
        "`output_cost_per_image`/`input_cost_per_image` become `media_prices` (per character, second, "
        "pixel, image)",
    ),
    Rule(
        "model_list[*].model_info.supports_*",
        "ignored",
        "-",
        "capabilities are the upstream's; RouteIQ passes tools, vision and the rest through "
        "(`supports_responses`, `supports_messages`, `supports_files` are kept: docs/gateway.md)",
    ),
)

BY_WHERE: Mapping[str, Rule] = MappingProxyType({rule.where: rule for rule in RULES})


def render_migration_table() -> str:
    """The Markdown table of every LiteLLM key and its fate (part of ``docs/litellm-migration.md``)."""
    lines = ["| LiteLLM key | Fate | RouteIQ | Notes |", "|---|---|---|---|"]
    lines += [f"| `{r.where}` | {r.fate} | {r.equivalent} | {r.note} |" for r in RULES]
    return "\n".join(lines) + "\n"
