"""Spend: costs from deployment prices, worst-case estimates, the in-memory ledger's reports."""

from __future__ import annotations

import pytest

from routeiq_adapters.spend import InMemorySpendLedger
from routeiq_core.access import PriceBook, SpendFilter, SpendRecord
from routeiq_core.catalog import Deployment, ModelCatalog, ModelGroup

pytestmark = pytest.mark.anyio

HOUR = 3600.0
T0 = 1_700_000_000.0 - 1_700_000_000.0 % HOUR


def deployment(id: str, inp: float, out: float) -> Deployment:
    return Deployment(
        id=id,
        model_group="g",
        adapter="mock",
        upstream_model="m",
        input_price_per_mtok=inp,
        output_price_per_mtok=out,
    )


def test_cost_and_worst_case_estimate() -> None:
    cheap, dear = deployment("a", 1.0, 2.0), deployment("b", 3.0, 1.0)
    assert cheap.cost(1_000_000, 500_000) == pytest.approx(2.0)
    catalog = ModelCatalog([ModelGroup(name="g", deployments=(cheap, dear), aliases=("gee",))])
    prices = PriceBook.from_catalog(catalog)
    assert prices.price("g") == prices.price("gee")
    assert (prices.price("g").input_per_mtok, prices.price("g").output_per_mtok) == (3.0, 2.0)
    assert prices.estimate("g", 1_000_000, 1_000_000) == pytest.approx(5.0)
    assert prices.estimate("unknown", 10, 10) == 0.0


async def test_ledger_reports_with_filters() -> None:
    ledger = InMemorySpendLedger()
    records = [
        SpendRecord(
            at=T0 + 10,
            model_group="g1",
            cost=1.0,
            prompt_tokens=10,
            completion_tokens=1,
            key_id="k1",
            team="t1",
        ),
        SpendRecord(
            at=T0 + 20,
            model_group="g2",
            cost=2.0,
            prompt_tokens=20,
            completion_tokens=2,
            key_id="k1",
            team="t1",
        ),
        SpendRecord(
            at=T0 + HOUR,
            model_group="g1",
            cost=4.0,
            prompt_tokens=40,
            completion_tokens=4,
            key_id="k2",
            team="t2",
        ),
        SpendRecord(at=T0 + 2 * HOUR, model_group="g1", cost=8.0, prompt_tokens=80, completion_tokens=8),
    ]
    for record in records:
        await ledger.record(record)
    everything = await ledger.report(SpendFilter())
    assert (everything.total.requests, everything.total.cost) == (4, 15.0)
    assert {k: v.cost for k, v in everything.by_key.items()} == {"k1": 3.0, "k2": 4.0, "-": 8.0}
    assert {k: v.cost for k, v in everything.by_team.items()} == {"t1": 3.0, "t2": 4.0, "-": 8.0}
    assert {k: v.cost for k, v in everything.by_model_group.items()} == {"g1": 13.0, "g2": 2.0}
    assert (await ledger.report(SpendFilter(key_id="k1"))).total.cost == 3.0
    assert (await ledger.report(SpendFilter(team="t2"))).total.prompt_tokens == 40
    assert (await ledger.report(SpendFilter(model_group="g1", team="t1"))).total.completion_tokens == 1
    in_range = await ledger.report(SpendFilter(since=T0 + HOUR, until=T0 + HOUR + 1))
    assert in_range.total.cost == 4.0


async def test_ledger_memory_is_bounded_by_retention() -> None:
    ledger = InMemorySpendLedger(retention_hours=2)
    for hour in range(10):
        for _ in range(50):
            await ledger.record(SpendRecord(at=T0 + hour * HOUR, model_group="g", cost=1.0, key_id="k"))
    assert len(ledger._totals) == 3
    assert (await ledger.report(SpendFilter())).total.requests == 150
