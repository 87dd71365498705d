"""Routing in an async app: CPU work goes to threads, so the event loop keeps ticking during a burst."""

from __future__ import annotations

import time

import anyio
import numpy as np
import pytest

from routeiq_core.routing.learned import HashingEmbedderConfig, RoutingModel, apredict, train_routing_model
from tests.unit.routing.learned.synthetic import synthetic_table

TICK_S = 0.002


@pytest.fixture(scope="module")
def model() -> RoutingModel:
    table = synthetic_table(3000)
    return train_routing_model(
        "knn", table, embedder_config=HashingEmbedderConfig(dim=512), k=50, power=1.0, prior=1.0
    )


class LagProbe:
    """A ticker that records the worst delay between when it asked to wake up and when it ran."""

    def __init__(self) -> None:
        self.max_lag = 0.0
        self.ticks = 0

    async def run(self, stop: anyio.Event) -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await anyio.sleep(TICK_S)
            self.max_lag = max(self.max_lag, time.perf_counter() - before - TICK_S)
            self.ticks += 1


async def _burst(route_one: object, prompts: list[list[str]]) -> tuple[float, LagProbe]:
    probe, stop = LagProbe(), anyio.Event()
    async with anyio.create_task_group() as outer:
        outer.start_soon(probe.run, stop)
        await anyio.sleep(TICK_S * 3)  # let the ticker start
        started = time.perf_counter()
        async with anyio.create_task_group() as burst:
            for batch in prompts:
                burst.start_soon(route_one, batch)  # type: ignore[arg-type]
        took = time.perf_counter() - started
        stop.set()
    return took, probe


def _prompts(model: RoutingModel) -> list[list[str]]:
    table = synthetic_table(400, seed=7)
    return [list(table.prompts[i : i + 40]) for i in range(0, 400, 40)]


@pytest.mark.anyio
async def test_aroute_keeps_the_loop_responsive(model: RoutingModel) -> None:
    async def offloaded(batch: list[str]) -> None:
        decisions = await model.aroute(batch, cost_weight=0.0)
        assert len(decisions) == len(batch)

    async def blocking(batch: list[str]) -> None:
        model.route(batch)  # what not to do: CPU work on the event loop

    await model.aroute(["warm up the worker threads"])
    took_blocking, probe_blocking = await _burst(blocking, _prompts(model))
    took, probe = await _burst(offloaded, _prompts(model) * 2)
    # The probe sees a stall when there is one: inline routing blocks it for most of the burst ...
    assert probe_blocking.max_lag > took_blocking / 3
    # ... while the offloaded burst leaves it ticking, with delays far below the burst's duration.
    assert probe.max_lag < took / 4
    assert probe.ticks >= 3


@pytest.mark.anyio
async def test_apredict_matches_predict(model: RoutingModel) -> None:
    x = model.embedder.embed(_prompts(model)[0])
    np.testing.assert_array_equal(await apredict(model.router, x), model.router.predict(x))
    np.testing.assert_array_equal(await apredict(model.router, x[:1]), model.router.predict(x[:1]))
