"""Loading the enabled plugins (built-in, entry point, or dotted path) for the container."""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from routeiq_adapters.plugins import BUILTIN_PLUGINS, PluginDeps, build_plugin
from routeiq_app.settings import Settings
from routeiq_core.catalog import Deployment, ModelCatalog
from routeiq_core.errors import ConfigurationError, RouteIQError
from routeiq_core.feedback import FeedbackService, evaluator_record
from routeiq_core.metrics import Metrics
from routeiq_core.plugins import Plugin, PluginContext, PluginManager
from routeiq_core.providers import ProviderClient
from routeiq_core.routing import DeploymentStats, DeploymentStrategy, LearnsQuality

ENTRY_POINT_GROUP = "routeiq.plugins"
BuiltinFactory = Callable[[str, dict[str, Any]], Plugin | None]

logger = logging.getLogger("routeiq.plugins")


def build_plugins(settings: Settings, builtin: BuiltinFactory) -> list[Plugin]:
    """Every enabled plugin, built with its settings section; every problem reported at once.

    Args:
        settings: The settings (``plugins.enabled`` and one section per plugin).
        builtin: Builds a built-in plugin by name, or returns None for an unknown name.
    """
    sections = settings.plugins.sections
    problems = [
        f"plugins.{name}: settings for a plugin that is not enabled (add it to plugins.enabled)"
        for name in sections
        if name not in settings.plugins.enabled
    ]
    plugins: list[Plugin] = []
    for name in settings.plugins.enabled:
        config = dict(sections.get(name, {}))
        try:
            plugin = builtin(name, config) or _custom(name, config)
        except ConfigurationError as exc:
            problems += exc.problems
            continue
        if plugin is None:
            problems.append(
                f"plugins.enabled: unknown plugin {name!r}: not built in, not a {ENTRY_POINT_GROUP!r} entry "
                "point, not a dotted path 'package.module:Class'"
            )
        else:
            plugins.append(plugin)
    if problems:
        raise ConfigurationError(problems)
    return plugins


def _custom(name: str, config: dict[str, Any]) -> Plugin | None:
    """A user plugin: its class is constructed with its settings section (a dict)."""
    target: Any = None
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            target = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ConfigurationError([f"plugins.enabled: cannot load {name!r}: {exc}"]) from exc
    else:
        found = [ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
        if not found:
            return None
        target = found[0].load()
    plugin = target(config)
    spec = getattr(plugin, "spec", None)
    missing = [
        h
        for h in ("before_request", "after_response", "on_startup")
        if not callable(getattr(plugin, h, None))
    ]
    if spec is None or missing:
        raise ConfigurationError(
            [f"plugins.enabled: {name!r} is not a plugin (needs a `spec` and the hooks; subclass BasePlugin)"]
        )
    return plugin  # type: ignore[no-any-return]


def allowed_capabilities(settings: Settings) -> frozenset[str] | None:
    """The capability allow-list of the config (None: everything allowed)."""
    allowed = settings.plugins.allowed_capabilities
    return None if allowed is None else frozenset(allowed)


def builtin_plugin_factory(
    metrics: Metrics,
    catalog: ModelCatalog,
    clients: Mapping[str, ProviderClient],
    stats: DeploymentStats,
    strategy: DeploymentStrategy | None = None,
    feedback_service: FeedbackService | None = None,
) -> BuiltinFactory:
    """Builds built-in plugins by name (None for names that are not built in).

    Spend is recorded once, by the call use case's settlement; the evaluator's scores are observed
    per deployment (``routeiq_quality_score``) and reported to the deployment strategy when it learns
    from quality (a bandit with ``quality_weight``).
    """
    learner: LearnsQuality | None = strategy if isinstance(strategy, LearnsQuality) else None

    def provider_for(deployment_id: str) -> tuple[ProviderClient, Deployment]:
        deployment = catalog.deployment(deployment_id)
        if deployment is None or deployment.adapter not in clients:
            raise LookupError(f"no deployment {deployment_id!r}")
        return clients[deployment.adapter], deployment

    async def feedback(ctx: PluginContext, score: float) -> None:  # the evaluator counts the score itself
        if learner is not None and ctx.request_id is not None:
            learner.on_quality(ctx.request_id, score)
        if feedback_service is not None:
            try:
                await feedback_service.evaluated(evaluator_record(ctx, score))
            except RouteIQError as exc:  # the store being down never fails the answer
                logger.warning("keeping the evaluator's score of %s failed: %s", ctx.request_id, exc.code)

    deps = PluginDeps(metrics=metrics, provider_for=provider_for, feedback=feedback)

    def build(name: str, config: dict[str, Any]) -> Plugin | None:
        return build_plugin(name, config, deps) if name in BUILTIN_PLUGINS else None

    return build


async def run_plugins(manager: PluginManager) -> AsyncIterator[PluginManager]:
    """Container Resource: start plugins with the app, stop them with it."""
    await manager.startup()
    try:
        yield manager
    finally:
        await manager.shutdown()
