"""Building the explorer (``routing.exploration``) and its scorer, for the container."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from routeiq_adapters.routing_data import JsonlRoutingDataset
from routeiq_app.model_routing import ModelRouting
from routeiq_app.settings import Settings
from routeiq_app.settings.exploration import ExplorationSettings
from routeiq_core.calls.exploration import ExplorationConfig, Explorer, Scorer
from routeiq_core.calls.routed import routed_prompt
from routeiq_core.catalog import ModelCatalog
from routeiq_core.errors import ConfigurationError
from routeiq_core.gateway import Gateway
from routeiq_core.guardrails.chat_text import response_texts
from routeiq_core.guardrails.evaluator import Evaluator, HeuristicEvaluator, LLMJudgeEvaluator
from routeiq_core.providers import ProviderClient

logger = logging.getLogger("routeiq.routing")


def explorer(
    settings: Settings,
    gateway: Gateway,
    catalog: ModelCatalog,
    routing: ModelRouting,
    clients: Mapping[str, ProviderClient],
) -> Explorer | None:
    """The explorer of the routed names (None when exploration is off or nothing is routed)."""
    config = settings.routing.exploration
    if not config.enabled or not routing.routed.names:
        return None
    return Explorer(
        gateway=gateway,
        catalog=catalog,
        routed=routing.routed,
        scorer=scorer(config, catalog, clients),
        dataset=JsonlRoutingDataset(Path(config.dataset_dir)),
        config=ExplorationConfig(
            share=config.share,
            daily_cost_cap=config.daily_cost_cap,
            off_policy=config.off_policy,
            concurrency=config.concurrency,
            timeout_s=config.timeout_s,
        ),
    )


def scorer(
    config: ExplorationSettings, catalog: ModelCatalog, clients: Mapping[str, ProviderClient]
) -> Scorer:
    """The configured scorer of answers (a configuration error names what is wrong)."""
    if config.scorer == "function":
        return _function_scorer(config.scorer_function or "")
    evaluator: Evaluator = HeuristicEvaluator()
    if config.scorer == "judge":
        deployment = catalog.deployment(config.judge_deployment or "")
        if deployment is None or deployment.adapter not in clients:
            raise ConfigurationError(
                [f"routing.exploration.judge_deployment: unknown deployment {config.judge_deployment!r}"]
            )
        evaluator = LLMJudgeEvaluator(clients[deployment.adapter], deployment, timeout_s=config.timeout_s)

    async def evaluate(payload: Mapping[str, Any], group: str, answer: Mapping[str, Any]) -> float | None:
        found = await evaluator.evaluate(payload, answer)
        return found.score if found is not None else None

    return evaluate


def _function_scorer(path: str) -> Scorer:
    module, _, attribute = path.partition(":")
    try:
        function = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigurationError(
            [f"routing.exploration.scorer_function: cannot load {path!r}: {exc}"]
        ) from exc
    if not callable(function):
        raise ConfigurationError([f"routing.exploration.scorer_function: {path!r} is not callable"])

    async def call(payload: Mapping[str, Any], group: str, answer: Mapping[str, Any]) -> float | None:
        texts = response_texts(answer)
        result = function(routed_prompt(payload), group, texts[0] if texts else "")
        if inspect.isawaitable(result):
            result = await result
        return None if result is None else float(result)

    return call


async def run_explorer(explorer: Explorer | None) -> AsyncIterator[Explorer | None]:
    """Container Resource: explore in the background while the app runs."""
    if explorer is None:
        yield None
        return
    # A task of its own, not a task group: the container ends this generator from another task.
    task = asyncio.create_task(explorer.run())
    try:
        yield explorer
    finally:
        await stop_background(task, "exploration")


async def stop_background(task: asyncio.Task[None], what: str) -> None:
    """Cancel a background task at shutdown; a failure it ended with is logged, never re-raised.

    A failed background task must not keep the worker from stopping.
    """
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:
        logger.exception("the %s task had failed", what)
