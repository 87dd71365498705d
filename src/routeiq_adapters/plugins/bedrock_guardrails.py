"""``bedrock_guardrails``: AWS Bedrock ``ApplyGuardrail`` over HTTP (SigV4-signed), via aiohttp."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from routeiq_adapters.guardrails.bedrock import BedrockGuardrail, BedrockGuardrailConfig, BedrockResult
from routeiq_adapters.guardrails.http_transport import AiohttpHttpTransport
from routeiq_adapters.plugins._common import GuardAction, Stage, decode_body, enforce, guardrail_down
from routeiq_adapters.plugins.deps import PluginDeps
from routeiq_core.guardrails.chat_text import response_texts
from routeiq_core.guardrails.errors import GuardrailUnavailableError
from routeiq_core.plugins.port import BasePlugin, Capability, FailureMode, PluginContext, PluginSpec

NAME = "bedrock_guardrails"


class BedrockGuardrailsPluginConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of ``plugins.bedrock_guardrails``.

    Attributes:
        guardrail_id: The guardrail identifier (id or ARN).
        guardrail_version: Its version (``DRAFT`` or a number).
        region: AWS region (also the signing region).
        endpoint: Base URL replacing ``https://bedrock-runtime.{region}.amazonaws.com`` (tests, VPC).
        access_key_id: AWS access key id (the app resolves ``os.environ/NAME``).
        secret_access_key: AWS secret access key.
        session_token: Session token of temporary credentials, if any.
        timeout_s: Deadline of one call.
        action: ``block`` refuses (400); ``flag`` lets the text through, counted and logged.
        responses: Also check non-streamed answers.
        failure_mode: When AWS cannot answer: ``continue`` fails open, ``abort`` fails closed (503),
            ``quarantine`` fails open and switches the plugin off after repeated failures.
    """

    guardrail_id: str
    access_key_id: str
    secret_access_key: str
    guardrail_version: str = "DRAFT"
    region: str = "us-east-1"
    endpoint: str | None = None
    session_token: str | None = None
    timeout_s: Annotated[float, msgspec.Meta(gt=0.0)] = 5.0
    action: GuardAction = "block"
    responses: bool = False
    failure_mode: FailureMode = FailureMode.CONTINUE

    def __repr__(self) -> str:
        """Never show the credentials."""
        return f"BedrockGuardrailsPluginConfig(guardrail_id={self.guardrail_id!r}, region={self.region!r})"


class BedrockGuardrailsPlugin(BasePlugin):
    """Applies one Bedrock guardrail to each request (source ``INPUT``) and, optionally, answer.

    Args:
        config: The plugin's settings.
        deps: The app's services (metrics).
    """

    def __init__(self, config: BedrockGuardrailsPluginConfig, deps: PluginDeps) -> None:
        self.config = config
        self._deps = deps
        self._transport = AiohttpHttpTransport()
        self._guard = BedrockGuardrail(
            BedrockGuardrailConfig(
                guardrail_id=config.guardrail_id,
                guardrail_version=config.guardrail_version,
                region=config.region,
                endpoint=config.endpoint,
                access_key_id=config.access_key_id,
                secret_access_key=config.secret_access_key,
                session_token=config.session_token,
                timeout_s=config.timeout_s,
            ),
            self._transport,
        )
        caps = {Capability.REQUEST_READ, Capability.NETWORK}
        if config.responses:
            caps.add(Capability.RESPONSE_READ)
        self.spec = PluginSpec(
            name=NAME, version="1", capabilities=frozenset(caps), failure_mode=config.failure_mode
        )

    async def on_shutdown(self) -> None:
        """Close the HTTP connection pool."""
        await self._transport.aclose()

    async def before_request(self, ctx: PluginContext) -> dict[str, Any] | None:
        """Refuse (or flag) a request the guardrail intervenes on."""
        try:
            result = await self._guard.check_request(ctx.payload)
        except GuardrailUnavailableError as exc:
            guardrail_down(self.spec, exc, self._deps.metrics)
        self._enforce(ctx, result, "request")
        return None

    async def after_response(self, ctx: PluginContext, body: bytes | None) -> bytes | None:
        """With ``responses``: refuse (or flag) a non-streamed answer the guardrail intervenes on."""
        answer = decode_body(body) if self.config.responses and body is not None else None
        texts = response_texts(answer) if answer is not None else []
        if not texts:
            return None
        try:
            result = await self._guard.check_response(texts)
        except GuardrailUnavailableError as exc:
            guardrail_down(self.spec, exc, self._deps.metrics)
        self._enforce(ctx, result, "response")
        return None

    def _enforce(self, ctx: PluginContext, result: BedrockResult, stage: Stage) -> None:
        enforce(
            result.verdict,
            guardrail=NAME,
            action=self.config.action,
            stage=stage,
            ctx=ctx,
            metrics=self._deps.metrics,
        )
