"""build_plugin: the nine built-ins by name, clear configuration errors, and each plugin's declaration."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

import routeiq_adapters.plugins as plugins_package
from routeiq_adapters.metrics.memory import InMemoryMetrics
from routeiq_adapters.plugins import BUILTIN_PLUGINS, PluginDeps, build_plugin
from routeiq_core.catalog import Deployment
from routeiq_core.errors import ConfigurationError
from routeiq_core.plugins.port import BasePlugin, Capability, FailureMode
from routeiq_core.providers import ProviderClient
from tests.support.providers import ScriptedChat, deployment

NAMES = {
    "pii_guard",
    "prompt_injection_guard",
    "content_filter",
    "llamaguard",
    "bedrock_guardrails",
    "cost_tracker",
    "evaluator",
    "exact_cache",
    "semantic_cache",
}
MINIMAL: dict[str, dict[str, Any]] = {
    "llamaguard": {"deployment": "guard"},
    "bedrock_guardrails": {"guardrail_id": "g", "access_key_id": "AKID", "secret_access_key": "s3cr3t"},
}


@pytest.fixture
def full_deps(metrics: InMemoryMetrics) -> PluginDeps:
    def provider_for(deployment_id: str) -> tuple[ProviderClient, Deployment]:
        if deployment_id != "guard":
            raise KeyError(deployment_id)
        return ScriptedChat(), deployment("guard")

    return PluginDeps(metrics=metrics, provider_for=provider_for)


def test_the_nine_builtins_are_registered_read_only() -> None:
    assert set(BUILTIN_PLUGINS) == NAMES
    assert isinstance(BUILTIN_PLUGINS, MappingProxyType)
    for plugin_type, config_type in BUILTIN_PLUGINS.values():
        assert issubclass(plugin_type, BasePlugin)
        assert config_type.__struct_config__.forbid_unknown_fields


@pytest.mark.parametrize("name", sorted(NAMES))
def test_each_builtin_builds_with_defaults_and_declares_itself(name: str, full_deps: PluginDeps) -> None:
    plugin = build_plugin(name, MINIMAL.get(name, {}), full_deps)
    assert plugin.spec.name == name
    assert plugin.spec.version
    assert plugin.spec.capabilities
    assert isinstance(plugin.spec.failure_mode, FailureMode)


def test_failure_modes_and_network_capabilities(full_deps: PluginDeps) -> None:
    def spec(name: str) -> Any:
        return build_plugin(name, MINIMAL.get(name, {}), full_deps).spec

    assert spec("pii_guard").failure_mode is FailureMode.ABORT
    assert spec("exact_cache").failure_mode is FailureMode.CONTINUE
    assert spec("llamaguard").failure_mode is FailureMode.CONTINUE
    assert Capability.NETWORK in spec("bedrock_guardrails").capabilities
    assert Capability.NETWORK not in spec("exact_cache").capabilities
    assert Capability.NETWORK not in spec("pii_guard").capabilities


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("pii_guard", {"action": "blok"}, "plugins.pii_guard.action: Invalid enum value 'blok'"),
        ("pii_guard", {"kinds": ["EMAIL", "SSN"]}, "plugins.pii_guard.kinds[1]: Invalid enum value"),
        ("pii_guard", {"colour": "red"}, "plugins.pii_guard.colour: unknown setting (allowed: action, kinds"),
        ("exact_cache", {"ttl_s": 0}, "plugins.exact_cache.ttl_s: Expected `float` > 0.0"),
        (
            "exact_cache",
            {"backend": "redis"},
            "plugins.exact_cache.redis_url: required when backend is 'redis'",
        ),
        ("exact_cache", {"teams": "everyone"}, "plugins.exact_cache.teams: Invalid enum value"),
        ("evaluator", {"sample_rate": 2}, "plugins.evaluator.sample_rate: Expected `float` <= 1.0"),
        ("llamaguard", {}, "plugins.llamaguard.deployment: required setting is missing"),
        ("llamaguard", {"deployment": "x"}, "plugins.llamaguard.deployment: unknown deployment 'x'"),
        (
            "content_filter",
            {"categories": [{"name": "x", "words": ["a"]}]},
            "plugins.content_filter.categories[0].words: unknown setting",
        ),
        (
            "content_filter",
            {"categories": [{"name": "x", "patterns": ["(unclosed"]}]},
            "plugins.content_filter: content filter pattern does not compile",
        ),
        (
            "prompt_injection_guard",
            {"threshold": 0},
            "plugins.prompt_injection_guard.threshold: Expected `float` > 0.0",
        ),
    ],
)
def test_bad_settings_name_the_field(
    name: str, raw: dict[str, Any], expected: str, full_deps: PluginDeps
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build_plugin(name, raw, full_deps)
    (problem,) = caught.value.problems
    assert problem.startswith(expected), problem


def test_secrets_never_appear_in_configuration_errors(full_deps: PluginDeps) -> None:
    raw = {**MINIMAL["bedrock_guardrails"], "timeout_s": "soon"}
    with pytest.raises(ConfigurationError) as caught:
        build_plugin("bedrock_guardrails", raw, full_deps)
    assert "s3cr3t" not in str(caught.value)
    assert "bedrock_guardrails.timeout_s" in str(caught.value)


def test_strings_from_the_environment_are_converted(full_deps: PluginDeps) -> None:
    plugin = build_plugin("exact_cache", {"ttl_s": "60", "allow_temperature": "true"}, full_deps)
    assert plugin.spec.name == "exact_cache"


def test_an_unknown_name_lists_the_builtins(full_deps: PluginDeps) -> None:
    with pytest.raises(ConfigurationError, match="not a built-in plugin"):
        build_plugin("nope", {}, full_deps)


def test_package_exports_resolve() -> None:
    for name in plugins_package.__all__:
        assert hasattr(plugins_package, name), name
