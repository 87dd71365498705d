"""``cost_tracker``: the spend of each call (from the serving deployment's prices), and a usage log line."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import msgspec

from routeiq_adapters.plugins.deps import PluginDeps
from routeiq_core.access.spend import SpendRecord
from routeiq_core.errors import RouteIQError
from routeiq_core.plugins.port import BasePlugin, Capability, FailureMode, PluginContext, PluginSpec
from routeiq_core.providers import Usage

NAME = "cost_tracker"
usage_logger = logging.getLogger("routeiq.usage")


class CostTrackerConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of ``plugins.cost_tracker``.

    Attributes:
        record_spend: Record each call's spend into the spend ledger (metrics are always kept).
        log_usage: Log one usage line per request (ids, model, tokens, cost; never content).
    """

    record_spend: bool = True
    log_usage: bool = True


class _BodyUsage(msgspec.Struct):
    usage: Usage | None = None


def _body_usage(body: bytes | None) -> Usage | None:
    if body is None:
        return None
    try:
        return msgspec.json.decode(body, type=_BodyUsage).usage
    except msgspec.DecodeError:  # also a validation error: an odd body simply has no usage
        return None


class CostTrackerPlugin(BasePlugin):
    """Prices each finished call, records it as spend, counts cost and tokens, logs a usage line.

    A request answered without an upstream call (a cache hit: no ``ctx.deployment``) costs nothing
    and is only logged.

    Args:
        config: The plugin's settings.
        deps: The app's services (metrics, spend ledger).
        clock: Unix time of the records.
    """

    def __init__(
        self, config: CostTrackerConfig, deps: PluginDeps, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.config = config
        self._deps = deps
        self._clock = clock
        caps = {Capability.RESPONSE_READ}
        if config.record_spend and deps.spend is not None:
            caps.add(Capability.STORAGE)
        self.spec = PluginSpec(
            name=NAME, version="1", capabilities=frozenset(caps), failure_mode=FailureMode.CONTINUE
        )

    async def after_response(self, ctx: PluginContext, body: bytes | None) -> bytes | None:
        """Account the call (usage from ``ctx.usage``, or else the body's ``usage``)."""
        usage = ctx.usage or _body_usage(body) or Usage()
        deployment = ctx.deployment
        cost = deployment.cost(usage.prompt_tokens, usage.completion_tokens) if deployment else 0.0
        group = deployment.model_group if deployment else (ctx.model_group or "-")
        if deployment is not None:
            labels = {"model_group": group, "deployment": deployment.id}
            metrics = self._deps.metrics
            metrics.increment("routeiq_plugin_cost", cost, **labels)
            metrics.increment("routeiq_plugin_tokens", float(usage.prompt_tokens), kind="prompt", **labels)
            metrics.increment(
                "routeiq_plugin_tokens", float(usage.completion_tokens), kind="completion", **labels
            )
            if self.config.record_spend and self._deps.spend is not None:
                await self._deps.spend.record(
                    SpendRecord(
                        at=self._clock(),
                        model_group=group,
                        cost=cost,
                        prompt_tokens=usage.prompt_tokens,
                        completion_tokens=usage.completion_tokens,
                        key_id=ctx.key_id,
                        team=ctx.team,
                        deployment_id=deployment.id,
                    )
                )
        self._log(ctx, "ok", group, usage, cost)
        return None

    async def on_error(self, ctx: PluginContext, error: RouteIQError) -> None:
        """Log the failed request's usage line (no spend: the gateway's accounting covers retries)."""
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
