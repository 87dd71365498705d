"""A concurrent burst against a small budget: spend stays within the budget plus the stated bound.

The bound (docs/access-control.md): a budget is overspent only by what calls use beyond what they
reserved — at most the sum of (actual - reserved) over the calls in flight when the last one was
admitted; nothing when no call uses more than its reservation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import AsyncTestClient

from routeiq_app import Container, create_app
from routeiq_app.settings import load_settings

pytestmark = pytest.mark.anyio

MASTER = "sk-burst-master-key-0123456789"
ADMIN = {"Authorization": f"Bearer {MASTER}"}
PRICES = "model_info: {input_price_per_mtok: 1000, output_price_per_mtok: 2000}"
CONFIG = f"""
model_list:
  - model_name: exact
    litellm_params: {{model: mock/exact, mock: {{prompt_tokens: 10, completion_tokens: 5, latency_ms: 50}}}}
    {PRICES}
  - model_name: over
    litellm_params: {{model: mock/over, mock: {{prompt_tokens: 200, completion_tokens: 50, latency_ms: 50}}}}
    {PRICES}
"""
BUDGET = 0.10
BURST = 100


def cost(prompt: int, completion: int) -> float:
    return (prompt * 1000 + completion * 2000) / 1e6


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[AsyncTestClient[Litestar]]:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "k.db")}
    container = Container()
    container.settings.override(providers.Object(load_settings(str(cfg), env)))
    async with AsyncTestClient(create_app(container)) as c:
        yield c


async def burst(client: AsyncTestClient[Litestar], model: str, content: str) -> tuple[int, float]:
    """Fire BURST calls at once on a fresh key with the budget; (admitted, spent)."""
    issued = await client.post(
        "/admin/keys", json={"budget": {"max_spend": BUDGET, "window": "day"}}, headers=ADMIN
    )
    key = issued.json()["key"]
    body = {"model": model, "messages": [{"role": "user", "content": content}], "max_tokens": 10}
    statuses: list[int] = []

    async def one() -> None:
        r = await client.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})
        statuses.append(r.status_code)

    async with anyio.create_task_group() as tg:
        for _ in range(BURST):
            tg.start_soon(one)
    assert set(statuses) <= {200, 429}, statuses
    report = await client.get("/admin/spend", params={"key_id": issued.json()["key_id"]}, headers=ADMIN)
    return statuses.count(200), report.json()["total"]["cost"]


async def test_calls_within_their_reservation_never_overspend(client: AsyncTestClient[Litestar]) -> None:
    admitted, spent = await burst(client, "exact", "x" * 60)  # reserves 19 + 10 tokens, uses 10 + 5
    assert admitted >= 1
    assert spent <= BUDGET + 1e-9
    assert spent == pytest.approx(admitted * cost(10, 5))


async def test_calls_beyond_their_reservation_overspend_at_most_the_stated_bound(
    client: AsyncTestClient[Litestar],
) -> None:
    reserved, actual = (
        cost(4, 10),
        cost(200, 50),
    )  # "hi" reserves 4 + 10 tokens; the upstream reports 200 + 50
    admitted, spent = await burst(client, "over", "hi")
    assert admitted <= int(BUDGET // reserved)  # all admitted in the first wave: reservations fill the budget
    assert spent == pytest.approx(admitted * actual)
    assert spent <= BUDGET + admitted * (actual - reserved) + 1e-9
