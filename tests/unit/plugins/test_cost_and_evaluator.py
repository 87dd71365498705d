"""cost_tracker counts cost and logs usage; evaluator scores answers and feeds routing outcomes."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
import pytest

from routeiq_adapters.metrics.memory import InMemoryMetrics
from routeiq_adapters.plugins import (
    CostTrackerConfig,
    CostTrackerPlugin,
    EvaluatorConfig,
    EvaluatorPlugin,
    PluginDeps,
)
from routeiq_core.catalog import Deployment
from routeiq_core.errors import ConfigurationError, UpstreamError
from routeiq_core.plugins.port import PluginContext
from routeiq_core.providers import ProviderClient, Usage
from tests.support.providers import ScriptedChat, deployment
from tests.unit.plugins.helpers import chat, completion, make_ctx

pytestmark = pytest.mark.anyio

PRICED = deployment("gpt-a", model_group="chat", input_price_per_mtok=2.0, output_price_per_mtok=10.0)


async def test_cost_tracker_counts_the_calls_own_cost_and_tokens(metrics: InMemoryMetrics) -> None:
    plugin = CostTrackerPlugin(CostTrackerConfig(), PluginDeps(metrics=metrics))
    ctx = make_ctx(
        chat("hi"),
        team="t1",
        key_id="k1",
        deployment=PRICED,
        usage=Usage(prompt_tokens=1000, completion_tokens=500),
    )
    assert ctx.cost == pytest.approx((1000 * 2.0 + 500 * 10.0) / 1e6)  # priced once, by the use case
    assert await plugin.after_response(ctx, completion("hello")) is None
    assert metrics.counter("routeiq_plugin_cost", deployment="gpt-a") == pytest.approx(0.007)
    assert metrics.counter("routeiq_plugin_tokens", kind="completion") == 500
    stream_ctx = make_ctx(
        chat("hi"), stream=True, deployment=PRICED, usage=Usage(prompt_tokens=5, completion_tokens=5)
    )
    await plugin.after_response(stream_ctx, None)
    assert metrics.counter("routeiq_plugin_tokens", kind="prompt") == 1005


async def test_a_request_answered_without_an_upstream_costs_nothing(metrics: InMemoryMetrics) -> None:
    plugin = CostTrackerPlugin(CostTrackerConfig(), PluginDeps(metrics=metrics))
    await plugin.after_response(make_ctx(chat("hi")), completion("cached"))
    assert metrics.counter("routeiq_plugin_cost") == 0


def test_spend_recording_is_no_longer_a_cost_tracker_setting() -> None:
    with pytest.raises(msgspec.ValidationError, match="record_spend"):
        msgspec.convert({"record_spend": False}, CostTrackerConfig)


async def test_one_usage_line_per_request_without_content(
    deps: PluginDeps, caplog: pytest.LogCaptureFixture
) -> None:
    plugin = CostTrackerPlugin(CostTrackerConfig(), deps)
    ctx = make_ctx(chat("my secret question"), team="t1", deployment=PRICED, usage=Usage(prompt_tokens=7))
    with caplog.at_level(logging.INFO, logger="routeiq.usage"):
        await plugin.after_response(ctx, completion("my secret answer"))
        await plugin.on_error(ctx, UpstreamError("late failure"))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "routeiq.usage"]
    assert "request_id=req-1" in line
    assert "team=t1" in line
    assert "deployment=gpt-a" in line
    assert "prompt_tokens=7" in line
    assert "outcome=ok" in line
    assert "secret" not in line


async def test_a_failed_request_is_logged_with_its_code(
    deps: PluginDeps, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="routeiq.usage"):
        await CostTrackerPlugin(CostTrackerConfig(), deps).on_error(make_ctx(chat("hi")), UpstreamError("x"))
    assert "outcome=upstream_error" in caplog.records[-1].getMessage()


def evaluator(
    metrics: InMemoryMetrics, scores: list[float], client: ScriptedChat | None = None, **config: Any
) -> EvaluatorPlugin:
    judge = deployment("judge")

    def provider_for(deployment_id: str) -> tuple[ProviderClient, Deployment]:
        if client is None or deployment_id != "judge":
            raise KeyError(deployment_id)
        return client, judge

    async def feedback(ctx: PluginContext, score: float) -> None:
        scores.append(score)

    deps = PluginDeps(metrics=metrics, provider_for=provider_for, feedback=feedback)
    return EvaluatorPlugin(msgspec.convert(config, EvaluatorConfig), deps)


async def test_the_heuristic_score_is_fed_back_and_observed(metrics: InMemoryMetrics) -> None:
    scores: list[float] = []
    plugin = evaluator(metrics, scores)
    ctx = make_ctx(chat("What is the capital of France?"), deployment=PRICED)
    await plugin.after_response(ctx, completion("The capital of France is Paris."))
    await plugin.after_response(ctx, completion("I'm sorry, but I can't help with that request."))
    assert scores[0] == 1.0
    assert scores[1] < 0.2
    (point,) = [p for p in metrics.snapshot() if p.name == "routeiq_quality_score"]
    assert point.count == 2
    assert point.labels["deployment"] == "gpt-a"


async def test_sampling_and_streams(metrics: InMemoryMetrics) -> None:
    scores: list[float] = []
    await evaluator(metrics, scores, sample_rate=0.0).after_response(
        make_ctx(chat("q")), completion("an answer")
    )
    await evaluator(metrics, scores).after_response(make_ctx(chat("q"), stream=True), None)
    assert scores == []


async def test_the_judge_rates_through_the_provider_port(metrics: InMemoryMetrics) -> None:
    scores: list[float] = []
    client = ScriptedChat("Score: 7", UpstreamError("judge down"))
    plugin = evaluator(metrics, scores, client, kind="judge", judge_deployment="judge")
    await plugin.after_response(make_ctx(chat("Explain TCP.")), completion("TCP is a reliable transport."))
    assert scores == [pytest.approx(6 / 9, abs=1e-6)]
    assert "TCP is a reliable transport." in client.payloads[0]["messages"][0]["content"]
    await plugin.after_response(make_ctx(chat("Explain TCP.")), completion("TCP is a reliable transport."))
    assert len(scores) == 1
    assert metrics.counter("routeiq_evaluator_failures", evaluator="judge") == 1


def test_the_judge_needs_a_deployment(metrics: InMemoryMetrics) -> None:
    with pytest.raises(ConfigurationError, match=r"plugins\.evaluator\.judge_deployment: required"):
        evaluator(metrics, [], kind="judge")
    with pytest.raises(ConfigurationError, match=r"plugins\.evaluator\.judge_deployment: unknown deployment"):
        evaluator(metrics, [], ScriptedChat(), kind="judge", judge_deployment="other")
