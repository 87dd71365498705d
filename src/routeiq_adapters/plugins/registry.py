"""The built-in plugins by name, and :func:`build_plugin`, which builds one from its settings section."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import msgspec

from routeiq_adapters.plugins.bedrock_guardrails import BedrockGuardrailsPlugin, BedrockGuardrailsPluginConfig
from routeiq_adapters.plugins.content_filter import ContentFilterConfig, ContentFilterPlugin
from routeiq_adapters.plugins.cost_tracker import CostTrackerConfig, CostTrackerPlugin
from routeiq_adapters.plugins.deps import PluginDeps
from routeiq_adapters.plugins.evaluator import EvaluatorConfig, EvaluatorPlugin
from routeiq_adapters.plugins.exact_cache import ExactCacheConfig, ExactCachePlugin
from routeiq_adapters.plugins.llamaguard import LlamaGuardPlugin, LlamaGuardPluginConfig
from routeiq_adapters.plugins.pii_guard import PiiGuardConfig, PiiGuardPlugin
from routeiq_adapters.plugins.prompt_injection_guard import (
    PromptInjectionGuardConfig,
    PromptInjectionGuardPlugin,
)
from routeiq_adapters.plugins.semantic_cache import SemanticCacheConfig, SemanticCachePlugin
from routeiq_core.errors import ConfigurationError
from routeiq_core.plugins.port import Plugin

BUILTIN_PLUGINS: Mapping[str, tuple[type, type[msgspec.Struct]]] = MappingProxyType(
    {
        "pii_guard": (PiiGuardPlugin, PiiGuardConfig),
        "prompt_injection_guard": (PromptInjectionGuardPlugin, PromptInjectionGuardConfig),
        "content_filter": (ContentFilterPlugin, ContentFilterConfig),
        "llamaguard": (LlamaGuardPlugin, LlamaGuardPluginConfig),
        "bedrock_guardrails": (BedrockGuardrailsPlugin, BedrockGuardrailsPluginConfig),
        "cost_tracker": (CostTrackerPlugin, CostTrackerConfig),
        "evaluator": (EvaluatorPlugin, EvaluatorConfig),
        "exact_cache": (ExactCachePlugin, ExactCacheConfig),
        "semantic_cache": (SemanticCachePlugin, SemanticCacheConfig),
    }
)
"""Built-in plugin name → (plugin class, settings class); each class is built as ``cls(config, deps)``."""

_AT = re.compile(r"^(?P<reason>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_FIELD = re.compile(r"^Object (?:contains unknown|missing required) field `(?P<field>[^`]+)`$")


def _problem(name: str, config_type: type[msgspec.Struct], error: msgspec.ValidationError) -> str:
    """``plugins.<name>.<field>: <reason>`` from a msgspec validation error (never a field's value)."""
    match = _AT.match(str(error))
    reason, path = (match["reason"], match["path"] or "") if match else (str(error), "")
    field = _FIELD.match(reason)
    if field is not None:
        path += "." + field["field"]
        if reason.startswith("Object contains unknown"):
            allowed = ", ".join(config_type.__struct_fields__) if not match or not match["path"] else ""
            reason = f"unknown setting (allowed: {allowed})" if allowed else "unknown setting"
        else:
            reason = "required setting is missing"
    return f"plugins.{name}{path}: {reason}"


def build_plugin(name: str, raw_config: Mapping[str, Any], deps: PluginDeps) -> Plugin:
    """Build the built-in plugin ``name`` from its settings section.

    Args:
        name: One of :data:`BUILTIN_PLUGINS`.
        raw_config: The ``plugins.<name>`` section (plain values, as parsed from YAML/JSON).
        deps: The app's services.

    Raises:
        ConfigurationError: Unknown name, or invalid settings (``plugins.<name>.<field>: reason``).
    """
    entry = BUILTIN_PLUGINS.get(name)
    if entry is None:
        known = ", ".join(BUILTIN_PLUGINS)
        raise ConfigurationError([f"plugins.enabled: {name!r} is not a built-in plugin (built in: {known})"])
    plugin_type, config_type = entry
    try:
        config = msgspec.convert(dict(raw_config), type=config_type, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigurationError([_problem(name, config_type, exc)]) from None
    try:
        plugin: Plugin = plugin_type(config, deps)
    except ValueError as exc:
        raise ConfigurationError([f"plugins.{name}: {exc}"]) from None
    return plugin
