"""``evaluator``: scores non-streamed answers (heuristic or LLM judge) and feeds the routing outcomes."""

from __future__ import annotations

import logging
import random
from typing import Annotated, Literal

import msgspec

from routeiq_adapters.plugins._common import decode_body, resolve_deployment
from routeiq_adapters.plugins.deps import PluginDeps
from routeiq_core import metric_names as names
from routeiq_core.errors import ConfigurationError, RouteIQError
from routeiq_core.guardrails.evaluator import Evaluator, HeuristicEvaluator, LLMJudgeEvaluator
from routeiq_core.plugins.port import BasePlugin, Capability, FailureMode, PluginContext, PluginSpec

NAME = "evaluator"
logger = logging.getLogger("routeiq.plugins")


class EvaluatorConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of ``plugins.evaluator``.

    Attributes:
        kind: ``heuristic`` (no model) or ``judge`` (a 1-10 rating from ``judge_deployment``).
        judge_deployment: Deployment id of the judge model (required for ``judge``).
        sample_rate: Share of answers scored (a judge call adds its latency to the answers it scores).
        timeout_s: Deadline of one judge call.
        max_chars: Question and answer are each cut to this many characters for the judge.
        seed: Seed of the sampling (None: random).
    """

    kind: Literal["heuristic", "judge"] = "heuristic"
    judge_deployment: str | None = None
    sample_rate: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 1.0
    timeout_s: Annotated[float, msgspec.Meta(gt=0.0)] = 15.0
    max_chars: Annotated[int, msgspec.Meta(ge=100)] = 6_000
    seed: int | None = None


class EvaluatorPlugin(BasePlugin):
    """Scores a sample of non-streamed answers; reports each score to metrics and ``deps.feedback``.

    Args:
        config: The plugin's settings.
        deps: The app's services (metrics, ``feedback``, and ``provider_for`` for the judge).

    Raises:
        ConfigurationError: ``judge`` without a usable ``judge_deployment``.
    """

    def __init__(self, config: EvaluatorConfig, deps: PluginDeps) -> None:
        self.config = config
        self._deps = deps
        self._rng = random.Random(config.seed)
        self._evaluator: Evaluator
        caps = {Capability.REQUEST_READ, Capability.RESPONSE_READ}
        if config.kind == "judge":
            if not config.judge_deployment:
                raise ConfigurationError([f"plugins.{NAME}.judge_deployment: required when kind is 'judge'"])
            client, deployment = resolve_deployment(deps, NAME, "judge_deployment", config.judge_deployment)
            self._evaluator = LLMJudgeEvaluator(
                client, deployment, timeout_s=config.timeout_s, max_chars=config.max_chars
            )
            caps.add(Capability.NETWORK)
        else:
            self._evaluator = HeuristicEvaluator()
        self.spec = PluginSpec(
            name=NAME, version="1", capabilities=frozenset(caps), failure_mode=FailureMode.CONTINUE
        )

    async def after_response(self, ctx: PluginContext, body: bytes | None) -> bytes | None:
        """Score a sampled non-streamed answer; a failed judge call is counted, never fails the request."""
        if body is None or self._rng.random() >= self.config.sample_rate:
            return None
        answer = decode_body(body)
        if answer is None or "choices" not in answer:
            return None
        try:
            evaluation = await self._evaluator.evaluate(ctx.payload, answer)
        except RouteIQError as exc:
            self._deps.metrics.increment(names.EVALUATOR_FAILURES, 1.0, evaluator=self.config.kind)
            logger.warning("evaluator judge call failed for request %s: %s", ctx.request_id, exc.code)
            return None
        if evaluation is None:
            return None
        labels = {"evaluator": self.config.kind, "model_group": ctx.configured_group or "-"}
        if ctx.deployment is not None:
            labels["deployment"] = ctx.deployment.id
        self._deps.metrics.observe(names.QUALITY_SCORE, evaluation.score, **labels)
        ctx.scratch(NAME)["score"] = evaluation.score
        if self._deps.feedback is not None:
            await self._deps.feedback(ctx, evaluation.score)
        return None
