"""``prompt_injection_guard``: heuristic prompt-injection scoring of the user's and tools' texts."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from routeiq_adapters.plugins._common import GuardAction, enforce
from routeiq_adapters.plugins.deps import PluginDeps
from routeiq_core import metric_names as names
from routeiq_core.guardrails.chat_text import request_texts
from routeiq_core.guardrails.injection import InjectionScorer
from routeiq_core.guardrails.verdict import Action
from routeiq_core.plugins.port import BasePlugin, Capability, FailureMode, PluginContext, PluginSpec

NAME = "prompt_injection_guard"


class PromptInjectionGuardConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of ``plugins.prompt_injection_guard``.

    Attributes:
        threshold: Scores at or above it are flagged (one strong signal reaches the default 0.5).
        action: ``block`` refuses the request (400); ``flag`` lets it through, counted and logged.
        roles: The messages checked (``prompt``/``input`` count as ``user``); the operator's system
            prompt is not checked by default.
    """

    threshold: Annotated[float, msgspec.Meta(gt=0.0, le=1.0)] = 0.5
    action: GuardAction = "block"
    roles: tuple[str, ...] = ("user", "tool")


class PromptInjectionGuardPlugin(BasePlugin):
    """Scores each checked text for injection signals; blocks or flags at the threshold.

    Args:
        config: The plugin's settings.
        deps: The app's services (metrics).
    """

    def __init__(self, config: PromptInjectionGuardConfig, deps: PluginDeps) -> None:
        self.config = config
        self._deps = deps
        self._scorer = InjectionScorer(threshold=config.threshold, action=Action(config.action))
        self.spec = PluginSpec(
            name=NAME,
            version="1",
            capabilities=frozenset({Capability.REQUEST_READ}),
            failure_mode=FailureMode.ABORT,
        )

    async def before_request(self, ctx: PluginContext) -> dict[str, Any] | None:
        """Refuse (``block``) or record (``flag``) a request whose score reaches the threshold."""
        verdict = self._scorer.check(request_texts(ctx.payload, roles=self.config.roles))
        if verdict.score is not None:
            self._deps.metrics.observe(names.PROMPT_INJECTION_SCORE, verdict.score)
        enforce(
            verdict,
            guardrail=NAME,
            action=self.config.action,
            stage="request",
            ctx=ctx,
            metrics=self._deps.metrics,
        )
        return None
