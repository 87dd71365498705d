"""Helpers shared by the built-in plugins: SSE frames, verdict handling, unreachable guardrails."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Literal, NoReturn

import msgspec

from routeiq_adapters.plugins.deps import PluginDeps
from routeiq_core import metric_names as names
from routeiq_core.catalog import Deployment
from routeiq_core.errors import ConfigurationError
from routeiq_core.guardrails.errors import GuardrailUnavailableError
from routeiq_core.guardrails.verdict import Verdict
from routeiq_core.metrics import Metrics
from routeiq_core.plugins.port import FailureMode, PluginContext, PluginSpec
from routeiq_core.providers import ProviderClient

logger = logging.getLogger("routeiq.plugins")

GuardAction = Literal["block", "flag"]
Stage = Literal["request", "response"]
_FRAME_END = b"\n\n"


def split_frames(chunk: bytes) -> list[bytes]:
    r"""The SSE frames of a chunk (each ending in ``\n\n``); a chunk holds one or more whole frames."""
    return [event + _FRAME_END for event in chunk.split(_FRAME_END) if event.strip()]


def decode_body(body: bytes) -> dict[str, Any] | None:
    """A response body as a JSON object, or None when it is not one."""
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    return decoded if isinstance(decoded, dict) else None


def wants_usage(payload: Mapping[str, Any]) -> bool:
    """Whether a streaming client asked for the usage chunk (``stream_options.include_usage``)."""
    options = payload.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def enforce(
    verdict: Verdict,
    *,
    guardrail: str,
    action: str,
    stage: Stage,
    ctx: PluginContext,
    metrics: Metrics,
) -> None:
    """Count and log a flagged verdict (never the text), keep it in the scratch, block if asked.

    ``action`` is ``block``, ``flag`` or (PII) ``redact``; only ``block`` raises.

    Raises:
        ContentPolicyViolation: The verdict is flagged and ``action`` is ``block``.
    """
    if not verdict.flagged:
        return
    category = verdict.categories[0] if verdict.categories else "unspecified"
    metrics.increment(
        names.GUARDRAIL_FLAGS, 1.0, guardrail=guardrail, category=category, action=action, stage=stage
    )
    logger.info(
        "guardrail %s flagged the %s of request %s (categories: %s, action: %s)",
        guardrail,
        stage,
        ctx.request_id,
        ", ".join(verdict.categories) or "unspecified",
        action,
    )
    ctx.scratch(guardrail)[f"{stage}_verdict"] = verdict
    if action == "block":
        raise verdict.violation(guardrail, stage)


class GuardrailDownError(RuntimeError):
    """An external guardrail could not answer; raised so the manager applies the failure mode."""


def guardrail_down(spec: PluginSpec, exc: GuardrailUnavailableError, metrics: Metrics) -> NoReturn:
    """Fail closed (503 ``guardrail_unavailable``) under ``abort``; otherwise a plugin failure.

    A plain exception lets the manager apply ``continue`` (fail open) or ``quarantine``.
    """
    metrics.increment(names.GUARDRAIL_UNAVAILABLE, 1.0, guardrail=spec.name)
    if spec.failure_mode is FailureMode.ABORT:
        raise exc
    raise GuardrailDownError(exc.message) from exc


def resolve_deployment(
    deps: PluginDeps, plugin: str, field: str, deployment_id: str
) -> tuple[ProviderClient, Deployment]:
    """The client reaching ``deployment_id`` and the deployment; a configuration error naming the field."""
    if deps.provider_for is None:
        raise ConfigurationError([f"plugins.{plugin}.{field}: no provider access was given to plugins"])
    try:
        return deps.provider_for(deployment_id)
    except LookupError as exc:
        raise ConfigurationError(
            [f"plugins.{plugin}.{field}: unknown deployment {deployment_id!r}; use a deployment id"]
        ) from exc
