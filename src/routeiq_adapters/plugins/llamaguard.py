"""``llamaguard``: LlamaGuard-style moderation by a model deployment, reached through the provider port."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from routeiq_adapters.plugins._common import (
    GuardAction,
    decode_body,
    enforce,
    guardrail_down,
    resolve_deployment,
)
from routeiq_adapters.plugins.deps import PluginDeps
from routeiq_core.guardrails.chat_text import response_texts
from routeiq_core.guardrails.errors import GuardrailUnavailableError
from routeiq_core.guardrails.llamaguard import LLAMA_GUARD_3_CATEGORIES, LlamaGuard, LlamaGuardConfig
from routeiq_core.plugins.port import BasePlugin, Capability, FailureMode, PluginContext, PluginSpec

NAME = "llamaguard"


class LlamaGuardPluginConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of ``plugins.llamaguard``.

    Attributes:
        deployment: Id of the catalog deployment serving the LlamaGuard model.
        action: ``block`` refuses (400); ``flag`` lets the text through, counted and logged.
        responses: Also moderate non-streamed answers.
        categories: The hazard categories, as ``[code, name]`` pairs (default: Llama Guard 3's S1-S14).
        timeout_s: Deadline of one moderation call.
        max_chars: The conversation is cut to its most recent this-many characters.
        raw_messages: Send plain chat messages (for servers whose chat template builds the prompt).
        failure_mode: When the model cannot answer: ``continue`` fails open, ``abort`` fails closed
            (503), ``quarantine`` fails open and switches the plugin off after repeated failures.
    """

    deployment: str
    action: GuardAction = "block"
    responses: bool = False
    categories: tuple[tuple[str, str], ...] = LLAMA_GUARD_3_CATEGORIES
    timeout_s: Annotated[float, msgspec.Meta(gt=0.0)] = 10.0
    max_chars: Annotated[int, msgspec.Meta(ge=100)] = 16_000
    raw_messages: bool = False
    failure_mode: FailureMode = FailureMode.CONTINUE


class LlamaGuardPlugin(BasePlugin):
    """Asks the moderation deployment about the last user turn (and, optionally, the answer).

    Args:
        config: The plugin's settings.
        deps: The app's services (metrics, ``provider_for``).

    Raises:
        ConfigurationError: No provider access, or the deployment id is unknown.
    """

    def __init__(self, config: LlamaGuardPluginConfig, deps: PluginDeps) -> None:
        self.config = config
        self._deps = deps
        client, deployment = resolve_deployment(deps, NAME, "deployment", config.deployment)
        self._guard = LlamaGuard(
            client,
            LlamaGuardConfig(
                deployment=deployment,
                categories=config.categories,
                timeout_s=config.timeout_s,
                max_chars=config.max_chars,
                raw_messages=config.raw_messages,
            ),
        )
        caps = {Capability.REQUEST_READ, Capability.NETWORK}
        if config.responses:
            caps.add(Capability.RESPONSE_READ)
        self.spec = PluginSpec(
            name=NAME,
            version="1",
            capabilities=frozenset(caps),
            failure_mode=config.failure_mode,
            startup_timeout_s=config.timeout_s,
        )

    async def before_request(self, ctx: PluginContext) -> dict[str, Any] | None:
        """Refuse (or flag) a request whose last user turn the model calls unsafe."""
        try:
            verdict = await self._guard.check_request(ctx.payload)
        except GuardrailUnavailableError as exc:
            guardrail_down(self.spec, exc, self._deps.metrics)
        enforce(
            verdict,
            guardrail=NAME,
            action=self.config.action,
            stage="request",
            ctx=ctx,
            metrics=self._deps.metrics,
        )
        return None

    async def after_response(self, ctx: PluginContext, body: bytes | None) -> bytes | None:
        """With ``responses``: refuse (or flag) a non-streamed answer the model calls unsafe."""
        answer = decode_body(body) if self.config.responses and body is not None else None
        texts = response_texts(answer) if answer is not None else []
        if not texts:
            return None
        try:
            verdict = await self._guard.check_response(ctx.payload, "\n".join(texts))
        except GuardrailUnavailableError as exc:
            guardrail_down(self.spec, exc, self._deps.metrics)
        enforce(
            verdict,
            guardrail=NAME,
            action=self.config.action,
            stage="response",
            ctx=ctx,
            metrics=self._deps.metrics,
        )
        return None
