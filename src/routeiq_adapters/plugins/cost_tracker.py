"""``cost_tracker``: each call's cost and tokens per deployment, and a usage log line."""

from __future__ import annotations

import logging

import msgspec

from routeiq_adapters.plugins.deps import PluginDeps
from routeiq_core import metric_names as names
from routeiq_core.errors import RouteIQError
from routeiq_core.plugins.port import BasePlugin, Capability, FailureMode, PluginContext, PluginSpec
from routeiq_core.providers import Usage

NAME = "cost_tracker"
usage_logger = logging.getLogger("routeiq.usage")


class CostTrackerConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of ``plugins.cost_tracker``.

    Attributes:
        log_usage: Log one usage line per request (ids, model, tokens, cost; never content).
    """

    log_usage: bool = True


class CostTrackerPlugin(BasePlugin):
    """Counts each finished call's cost and tokens per deployment and logs a usage line.

    The cost is the call's own (``ctx.cost``, computed once by the use case from the serving
    deployment's prices; the spend ledger records it for every call, with or without this plugin).
    A request answered without an upstream call (a cache hit: no ``ctx.route``) costs nothing and
    is only logged.

    Args:
        config: The plugin's settings.
        deps: The app's services (metrics).
    """

    def __init__(self, config: CostTrackerConfig, deps: PluginDeps) -> None:
        self.config = config
        self._deps = deps
        self.spec = PluginSpec(
            name=NAME,
            version="2",
            capabilities=frozenset({Capability.RESPONSE_READ}),
            failure_mode=FailureMode.CONTINUE,
        )

    async def after_response(self, ctx: PluginContext, body: bytes | None) -> bytes | None:
        """Count the call's cost and tokens, and log its usage line."""
        usage = ctx.usage or Usage()
        route = ctx.route
        group = route.model_group if route else (ctx.model_group or "-")
        if route is not None:
            labels = {"model_group": group, "deployment": route.deployment_id}
            metrics = self._deps.metrics
            metrics.increment(names.PLUGIN_COST, ctx.cost, **labels)
            metrics.increment(names.PLUGIN_TOKENS, float(usage.prompt_tokens), kind="prompt", **labels)
            metrics.increment(
                names.PLUGIN_TOKENS, float(usage.completion_tokens), kind="completion", **labels
            )
        self._log(ctx, "ok", group, usage, ctx.cost if route else 0.0)
        return None

    async def on_error(self, ctx: PluginContext, error: RouteIQError) -> None:
        """Log the failed request's usage line (no spend: a call that failed costs nothing here)."""
        self._log(ctx, str(error.code or error.error_type), ctx.model_group or "-", ctx.usage or Usage(), 0.0)

    def _log(self, ctx: PluginContext, outcome: str, group: str, usage: Usage, cost: float) -> None:
        scratch = ctx.scratch(NAME)
        if not self.config.log_usage or scratch.get("logged"):
            return
        scratch["logged"] = True
        deployment = ctx.deployment.id if ctx.deployment else "-"
        usage_logger.info(
            "usage request_id=%s key=%s team=%s operation=%s model_group=%s deployment=%s stream=%s "
            "outcome=%s prompt_tokens=%d completion_tokens=%d cost=%.8f",
            ctx.request_id or "-",
            ctx.key_id or "-",
            ctx.team or "-",
            ctx.operation.value,
            group,
            deployment,
            ctx.stream,
            outcome,
            usage.prompt_tokens,
            usage.completion_tokens,
            cost,
        )
