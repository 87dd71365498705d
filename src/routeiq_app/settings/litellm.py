"""LiteLLM proxy configs, loaded unchanged: their sections and keys turned into RouteIQ's settings.

A LiteLLM ``config.yaml`` has ``model_list`` (RouteIQ reads it natively) and sections of its own
(``litellm_settings``, ``router_settings``, ``general_settings``, ``environment_variables``, ...).
:func:`translate` rewrites a raw config tree in place before validation, following the table in
:mod:`routeiq_app.settings.litellm_rules`, and collects a notice for every key it ignores and a
problem for every key it refuses. A key RouteIQ's own settings set wins over its LiteLLM spelling.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, get_args
from urllib.parse import quote

from routeiq_app.settings.base import DeploymentMode
from routeiq_app.settings.litellm_rules import BY_WHERE, CALLBACKS, STRATEGIES
from routeiq_app.settings.media import LITELLM_MEDIA_PRICES

SECTIONS = ("litellm_settings", "router_settings", "general_settings")
TOP_LEVEL = (
    "credential_list",
    "mcp_servers",
    "guardrails",
    "files_settings",
    "finetune_settings",
    "assistant_settings",
)
_WINDOWS: Mapping[str, str] = MappingProxyType(
    {"1h": "hour", "60m": "hour", "1d": "day", "24h": "day", "30d": "month", "1mo": "month"}
)
REFERENCE = "os.environ/"
_NATIVE_INFO = frozenset(
    {"id", "max_input_tokens", "input_price_per_mtok", "output_price_per_mtok", "base_model", "mode"}
    | {"supports_files", "supports_responses", "supports_messages", "media_prices"}
)
_NATIVE_ADAPTERS = ("openai/", "mock/")
_RETRY_PARAMS = ("max_retries", "num_retries")
_NATIVE_ONLY_DROPPED = ("stream_timeout", "drop_params")


class Translation:
    """A config tree being turned into RouteIQ's, with what was met on the way.

    Attributes:
        tree: The tree, rewritten in place.
        notices: One line per ignored key (or value), saying why.
        problems: Refused keys and unusable values, each naming what to write instead.
        environment: The ``environment_variables`` section.
        origins: The LiteLLM key each mapped RouteIQ key came from (to name it in errors).
    """

    def __init__(self, tree: dict[str, Any]) -> None:
        self.tree = tree
        self.notices: list[str] = []
        self.problems: list[str] = []
        self.environment: dict[str, str] = {}
        self.origins: dict[tuple[str, ...], str] = {}
        self.default_fallbacks: Any = None
        self._native = {section: dict(value) for section, value in tree.items() if isinstance(value, dict)}

    def set(self, path: tuple[str, ...], value: Any, origin: str) -> None:
        """Set a RouteIQ key from LiteLLM's ``origin``, unless the config sets it natively."""
        native: Any = self._native
        for part in path:
            native = native.get(part) if isinstance(native, dict) else None
        if native is not None:
            self.notices.append(f"{origin}: ignored, {'.'.join(path)} is set natively and wins")
            return
        node = self.tree
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                return  # the section itself is malformed: validation reports it
            node = child
        node[path[-1]] = value
        self.origins[path] = origin

    def ignore(self, origin: str, why: str) -> None:
        """Note that ``origin`` is accepted and ignored, and why."""
        self.notices.append(f"{origin}: ignored ({why})")


def config_environment(tree: dict[str, Any], problems: list[str]) -> dict[str, str]:
    """Take the ``environment_variables`` section out of ``tree``."""
    env = tree.pop("environment_variables", None)
    if env is not None and not isinstance(env, dict):
        problems.append("environment_variables: expected a mapping of NAME: value")
    return {str(k): str(v) for k, v in env.items() if v is not None} if isinstance(env, dict) else {}


def translate(tree: dict[str, Any]) -> Translation:
    """Map the LiteLLM sections and model_list keys of ``tree`` in place (see the module docstring).

    ``os.environ/NAME`` values are left as they are: the loader resolves them before translating,
    ``config import-litellm`` keeps them as references.
    """
    work = Translation(tree)
    work.environment = config_environment(tree, work.problems)
    for section in SECTIONS:
        values = tree.pop(section, None)
        if values is None:
            continue
        if not isinstance(values, dict):
            work.problems.append(f"{section}: expected a mapping, got {type(values).__name__}")
            continue
        for key, value in values.items():
            _apply(section, str(key), value, values, work)
    credentials = _top_level(tree, work)
    _default_fallbacks(work)
    _entries(tree, credentials, work)
    return work


def _apply(section: str, key: str, value: Any, values: Mapping[str, Any], work: Translation) -> None:
    where = f"{section}.{key}"
    rule = BY_WHERE.get(where)
    if rule is None:
        work.ignore(where, "not a setting RouteIQ uses")
    elif rule.fate == "refused":
        work.problems.append(f"{where}: not supported; use {rule.equivalent} ({rule.note})")
    elif key in ("callbacks", "success_callback", "failure_callback"):
        for name in value if isinstance(value, list) else [value]:
            work.ignore(
                f"{where}: {name!r}", CALLBACKS.get(str(name), "a LiteLLM integration RouteIQ does not have")
            )
    elif rule.fate == "ignored":
        work.ignore(where, rule.note)
    else:
        _MAPPERS[where](value, values, work, where)


def _top_level(tree: dict[str, Any], work: Translation) -> dict[str, dict[str, Any]]:
    """Other LiteLLM top-level sections; returns the credentials of ``credential_list`` by name."""
    credentials: dict[str, dict[str, Any]] = {}
    for section in TOP_LEVEL:
        if section not in tree:
            continue
        value = tree.pop(section)
        rule = BY_WHERE[section]
        if rule.fate == "refused":
            work.problems.append(f"{section}: not supported; use {rule.equivalent} ({rule.note})")
        elif rule.fate == "ignored":
            work.ignore(section, rule.note)
        elif not isinstance(value, list):
            work.problems.append(f"{section}: expected a list of {{credential_name, credential_values}}")
        else:
            for index, item in enumerate(value):
                name = item.get("credential_name") if isinstance(item, dict) else None
                values = item.get("credential_values") if isinstance(item, dict) else None
                if not isinstance(name, str) or not isinstance(values, dict):
                    work.problems.append(
                        f"{section}[{index}]: expected credential_name and credential_values"
                    )
                    continue
                credentials[name] = values
    return credentials


def _to(path: str) -> Callable[[Any, Mapping[str, Any], Translation, str], None]:
    def mapper(value: Any, values: Mapping[str, Any], work: Translation, where: str) -> None:
        work.set(tuple(path.split(".")), value, where)

    return mapper


def _strategy(value: Any, values: Mapping[str, Any], work: Translation, where: str) -> None:
    name = STRATEGIES.get(str(value))
    if name is None:
        work.problems.append(
            f"{where}={value!r}: unknown LiteLLM routing strategy; use one of {', '.join(STRATEGIES)}"
        )
    else:
        work.set(("routing", "strategy"), name, where)


def _allowed_fails(value: Any, values: Mapping[str, Any], work: Translation, where: str) -> None:
    threshold = value + 1 if isinstance(value, int) and not isinstance(value, bool) else value
    work.set(("resilience", "breaker_failure_threshold"), threshold, where)


def _redis_url(host: Any, port: Any, password: Any, work: Translation, where: str) -> str:
    parts = {"host": host, "port": port, "password": password}
    references = {k: v for k, v in parts.items() if isinstance(v, str) and v.startswith(REFERENCE)}
    if references:  # only when importing: the loader resolves references first
        names = ", ".join(f"{k} from {v[len(REFERENCE) :]}" for k, v in references.items())
        work.ignore(where, f"a Redis URL built of environment variables ({names}): set REDIS_URL to it")
        return REFERENCE + "REDIS_URL"
    auth = f":{quote(str(password), safe='')}@" if password else ""
    return f"redis://{auth}{host}:{port or 6379}/0"


def _redis(value: Any, values: Mapping[str, Any], work: Translation, where: str) -> None:
    if where.endswith(("redis_port", "redis_password")):
        if "redis_host" not in values:
            work.ignore(where, "no redis_host to go with it")
        return  # read with the host
    if where.endswith("redis_host"):
        value = _redis_url(value, values.get("redis_port"), values.get("redis_password"), work, where)
    work.set(("quota", "backend"), "redis", where)
    work.set(("quota", "redis_url"), value, where)
    work.set(("state", "redis_url"), value, where)


def _aliases(value: Any, values: Mapping[str, Any], work: Translation, where: str) -> None:
    if not isinstance(value, dict):
        work.problems.append(f"{where}: expected a mapping of alias: model group")
        return
    aliases = {
        str(alias): str(target.get("model") if isinstance(target, dict) else target)
        for alias, target in value.items()
    }
    work.set(("routing", "model_group_alias"), aliases, where)


def _default_fallbacks_of(value: Any, values: Mapping[str, Any], work: Translation, where: str) -> None:
    work.default_fallbacks = value


def _cache(value: Any, values: Mapping[str, Any], work: Translation, where: str) -> None:
    plugins = work.tree.setdefault("plugins", {})
    enabled = plugins.setdefault("enabled", []) if isinstance(plugins, dict) else None
    if value is True and isinstance(enabled, list) and "exact_cache" not in enabled:
        enabled.append("exact_cache")
        work.origins[("plugins", "enabled")] = where


def _cache_params(value: Any, values: Mapping[str, Any], work: Translation, where: str) -> None:
    if not isinstance(value, dict):
        work.problems.append(f"{where}: expected a mapping")
        return
    if value.get("type") == "redis":
        url = value.get("url") or _redis_url(
            value.get("host", "127.0.0.1"), value.get("port"), value.get("password"), work, where
        )
        work.set(("plugins", "exact_cache", "backend"), "redis", where)
        work.set(("plugins", "exact_cache", "redis_url"), url, where)
    if "ttl" in value:
        work.set(("plugins", "exact_cache", "ttl_s"), value["ttl"], f"{where}.ttl")
    for key in sorted(set(value) - {"type", "host", "port", "password", "url", "ttl"}):
        work.ignore(f"{where}.{key}", "RouteIQ's exact cache has no such setting")


def _budget(value: Any, values: Mapping[str, Any], work: Translation, where: str) -> None:
    if where.endswith("budget_duration"):
        if "max_budget" not in values:
            work.ignore(where, "no max_budget to apply it to")
        return
    duration = str(values.get("budget_duration", "30d"))
    window = _WINDOWS.get(duration)
    if window is None:
        work.problems.append(
            f"litellm_settings.budget_duration={duration!r}: use one of {', '.join(_WINDOWS)}"
        )
        return
    work.set(("quota", "global_limits", f"spend_per_{window}"), value, where)


def _database(value: Any, values: Mapping[str, Any], work: Translation, where: str) -> None:
    work.set(("keys", "backend"), "postgres", where)
    work.set(("keys", "postgres_dsn"), value, where)


_MAPPERS: Mapping[str, Callable[[Any, Mapping[str, Any], Translation, str], None]] = MappingProxyType(
    {
        "litellm_settings.num_retries": _to("resilience.num_retries"),
        "litellm_settings.request_timeout": _to("resilience.default_timeout_s"),
        "litellm_settings.fallbacks": _to("routing.fallbacks"),
        "litellm_settings.context_window_fallbacks": _to("routing.context_window_fallbacks"),
        "litellm_settings.default_fallbacks": _default_fallbacks_of,
        "litellm_settings.cache": _cache,
        "litellm_settings.cache_params": _cache_params,
        "litellm_settings.max_budget": _budget,
        "litellm_settings.budget_duration": _budget,
        "router_settings.routing_strategy": _strategy,
        "router_settings.num_retries": _to("resilience.num_retries"),
        "router_settings.timeout": _to("resilience.default_timeout_s"),
        "router_settings.allowed_fails": _allowed_fails,
        "router_settings.cooldown_time": _to("resilience.breaker_cooldown_s"),
        "router_settings.redis_host": _redis,
        "router_settings.redis_port": _redis,
        "router_settings.redis_password": _redis,
        "router_settings.redis_url": _redis,
        "router_settings.model_group_alias": _aliases,
        "router_settings.fallbacks": _to("routing.fallbacks"),
        "router_settings.context_window_fallbacks": _to("routing.context_window_fallbacks"),
        "router_settings.default_fallbacks": _default_fallbacks_of,
        "router_settings.enable_tag_filtering": _to("routing.tag_filtering"),
        "general_settings.master_key": _to("security.master_key"),
        "general_settings.database_url": _database,
        "general_settings.global_max_parallel_requests": _to("server.max_concurrent_requests"),
    }
)


def _default_fallbacks(work: Translation) -> None:
    """Give every group without fallbacks of its own the default ones."""
    default = work.default_fallbacks
    if default is None:
        return
    if not isinstance(default, list):
        work.problems.append("default_fallbacks: expected a list of model groups")
        return
    routing = work.tree.setdefault("routing", {})
    fallbacks = routing.setdefault("fallbacks", []) if isinstance(routing, dict) else None
    if not isinstance(fallbacks, list):
        return
    covered = {name for entry in fallbacks if isinstance(entry, dict) for name in entry}
    groups = [e.get("model_name") for e in work.tree.get("model_list") or () if isinstance(e, dict)]
    for group in dict.fromkeys(g for g in groups if isinstance(g, str)):
        if group not in covered and group not in default:
            fallbacks.append({group: [str(g) for g in default]})


def _entries(tree: dict[str, Any], credentials: Mapping[str, Mapping[str, Any]], work: Translation) -> None:
    """Entry-level keys LiteLLM allows; each notice is said once for all entries."""
    entries = tree.get("model_list")
    if not isinstance(entries, list):
        return
    ignored: dict[str, set[int]] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        params = entry.get("litellm_params")
        if isinstance(params, dict):
            _params(entry, params, index, credentials, ignored, work)
        info = entry.get("model_info")
        if isinstance(info, dict):
            _model_info(info, params if isinstance(params, dict) else {}, index, ignored, work)
    for pattern, indices in ignored.items():
        rule = BY_WHERE.get(f"model_list[*].{pattern}")
        work.ignore(
            f"model_list[*].{pattern} on {len(indices)} entries", rule.note if rule else "not used by RouteIQ"
        )


def _params(
    entry: dict[str, Any],
    params: dict[str, Any],
    index: int,
    credentials: Mapping[str, Mapping[str, Any]],
    ignored: dict[str, set[int]],
    work: Translation,
) -> None:
    for limit in ("rpm", "tpm"):
        if limit in entry:
            params.setdefault(limit, entry.pop(limit))
    credential = params.pop("litellm_credential_name", None)
    if credential is not None:
        if isinstance(credential, str) and credential in credentials:
            for key, value in credentials[credential].items():
                params.setdefault(key, value)
        else:
            known = ", ".join(credentials) or "none in credential_list"
            work.problems.append(
                f"model_list[{index}].litellm_params.litellm_credential_name: "
                f"unknown credential {credential!r} (known: {known})"
            )
    native = str(params.get("model", "")).startswith(_NATIVE_ADAPTERS) and params.get("adapter") in (
        None,
        "auto",
    )
    for key in (*_RETRY_PARAMS, *(_NATIVE_ONLY_DROPPED if native else ())):
        if key in params:
            params.pop(key)
            name = f"litellm_params.{'max_retries' if key in _RETRY_PARAMS else key}"
            ignored.setdefault(name, set()).add(index)


def _model_info(
    info: dict[str, Any],
    params: Mapping[str, Any],
    index: int,
    ignored: dict[str, set[int]],
    work: Translation,
) -> None:
    if "mode" in info and info["mode"] not in get_args(DeploymentMode):  # a mode RouteIQ does not serve
        info.pop("mode")
        ignored.setdefault("model_info.mode", set()).add(index)
    for key in [k for k in info if k not in _NATIVE_INFO]:
        value = info.pop(key)
        if key in LITELLM_MEDIA_PRICES and isinstance(media := info.setdefault("media_prices", {}), dict):
            media.setdefault(LITELLM_MEDIA_PRICES[key], value)  # the settings check it is a price
        elif key not in ("input_cost_per_token", "output_cost_per_token"):
            name = "model_info." + ("supports_*" if key.startswith("supports_") else key)
            ignored.setdefault(name, set()).add(index)
        elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            work.problems.append(
                f"model_list[{index}].model_info.{key}={value!r}: expected a non-negative number"
            )
        elif key not in params:  # a price in litellm_params wins
            info.setdefault(f"{key.split('_', 1)[0]}_price_per_mtok", value * 1_000_000)
