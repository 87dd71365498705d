"""Exploration: which calls are explored, what a row holds, the daily cap, failures, propensities."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from typing import Any, cast

import anyio
import pytest

from routeiq_app.exploration_setup import stop_background
from routeiq_core.calls import RoutedName
from routeiq_core.calls.exploration import DatasetRow, ExplorationConfig, Explorer
from routeiq_core.calls.routed import RoutedModels
from routeiq_core.catalog import ModelGroup
from routeiq_core.context import CallContext, RoutedChoice
from routeiq_core.routing.learned import RouterRegistry, RoutingModel
from tests.support.gateways import make
from tests.support.providers import deployment, failure

pytestmark = pytest.mark.anyio


class Router:
    models = ("small-model", "big-model")


class Rows:
    def __init__(self) -> None:
        self.kept: list[DatasetRow] = []

    async def append(self, row: DatasetRow) -> None:
        self.kept.append(row)

    async def rows(self, router: str, *, full: bool) -> list[DatasetRow]:
        return [r for r in self.kept if r.full == full]


async def score(payload: Mapping[str, Any], group: str, answer: Mapping[str, Any]) -> float | None:
    return {"cheap": 0.25, "strong": 0.75}.get(group)


def setup(
    config: ExplorationConfig, script: dict[str, list[Any]] | None = None
) -> tuple[Explorer, Rows, RoutedModels]:
    groups = [
        ModelGroup(name="cheap", deployments=(deployment("cheap", input_price_per_mtok=1e6),)),
        ModelGroup(name="strong", deployments=(deployment("strong", input_price_per_mtok=1e6),)),
    ]
    gateway, *_ = make(groups, script, retries=0)
    routed = RoutedModels(
        {"auto": RoutedName(name="auto", model_map={"small-model": "cheap", "big-model": "strong"})},
        RouterRegistry({"auto": cast(RoutingModel, Router())}),
    )
    rows = Rows()
    explorer = Explorer(
        gateway=gateway,
        catalog=gateway.catalog,
        routed=routed,
        scorer=score,
        dataset=rows,
        config=config,
        rng=random.Random(0),
        clock=lambda: 1_800_000_000.0,
    )
    return explorer, rows, routed


def answered(request_id: str, *, version: int | None = None) -> CallContext:
    return CallContext(
        request_id=request_id,
        payload={"model": "auto", "messages": [{"role": "user", "content": "2+2?"}]},
        routed=RoutedChoice(router="auto", model_group="cheap", reason="r", version=version),
        cost=0.001,
    )


async def drain(explorer: Explorer, contexts: list[CallContext]) -> None:
    async with anyio.create_task_group() as group:
        group.start_soon(explorer.run)
        for ctx in contexts:
            explorer.observe(ctx, b'{"choices":[{"message":{"content":"4"}}]}')
        await anyio.sleep(0.2)
        group.cancel_scope.cancel()


async def test_an_explored_call_scores_every_candidate_in_the_router_names() -> None:
    explorer, rows, _ = setup(ExplorationConfig(share=1.0))
    await drain(explorer, [answered("r1")])
    [row] = rows.kept
    assert (row.full, row.chosen, row.propensity, row.router) == (True, "small-model", 1.0, "auto")
    assert row.scores == {"small-model": 0.25, "big-model": 0.75}
    assert row.costs["small-model"] == 0.001
    assert row.costs["big-model"] > 0  # the exploration call's own cost
    assert row.prompt == "2+2?"
    assert explorer.spent_today == row.costs["big-model"]


async def test_calls_not_explored_keep_an_off_policy_row_unless_turned_off() -> None:
    explorer, rows, _ = setup(ExplorationConfig(share=0.0))
    await drain(explorer, [answered("r1")])
    assert [(r.full, r.scores) for r in rows.kept] == [(False, {"small-model": 0.25})]
    explorer, rows, _ = setup(ExplorationConfig(share=0.0, off_policy=False))
    await drain(explorer, [answered("r1")])
    assert rows.kept == []


async def test_the_daily_cap_stops_exploring_and_a_failed_candidate_is_a_missing_cell() -> None:
    explorer, rows, _ = setup(ExplorationConfig(share=1.0, daily_cost_cap=0.0))
    await drain(explorer, [answered("r1")])
    assert [r.full for r in rows.kept] == [False]
    explorer, rows, _ = setup(ExplorationConfig(share=1.0), {"strong": [failure(500)]})
    await drain(explorer, [answered("r1")])
    [row] = rows.kept
    assert (row.full, set(row.scores)) == (False, {"small-model"})


async def test_a_canary_arm_records_its_propensity_and_a_full_queue_skips() -> None:
    explorer, rows, routed = setup(ExplorationConfig(share=0.0))
    routed.start_canary("auto", cast(RoutingModel, Router()), 2, 0.2)
    await drain(explorer, [answered("r1", version=2), answered("r2", version=1)])
    assert sorted(r.propensity for r in rows.kept) == [0.2, 0.8]
    explorer, rows, _ = setup(ExplorationConfig(share=0.0, max_pending=1))
    for i in range(3):
        explorer.observe(answered(f"r{i}"), b"{}")
    assert explorer.skipped == 2


async def test_a_background_task_that_failed_does_not_keep_the_worker_from_stopping() -> None:
    async def broken() -> None:
        raise RuntimeError("the explorer crashed")

    task = asyncio.create_task(broken())
    await asyncio.sleep(0)
    await stop_background(task, "exploration")  # logged, not raised
    running = asyncio.create_task(asyncio.sleep(60))
    await stop_background(running, "exploration")
    assert running.cancelled()
