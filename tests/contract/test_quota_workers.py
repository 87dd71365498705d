"""Exact quotas across worker processes: 4 workers, one key with rpm=50, 200 concurrent requests."""

from __future__ import annotations

import uuid

import anyio
import httpx
import pytest

from tests.support.gateway_process import GatewayProcess

pytestmark = pytest.mark.slow
MASTER = "sk-master-workers-test"
CONFIG = """
model_list:
  - model_name: demo
    litellm_params: {model: mock/demo, mock: {latency_ms: 20}}
"""


def test_four_workers_admit_exactly_the_rpm_limit(redis_url: str, tmp_path: object) -> None:
    env = {
        "ROUTEIQ_SERVER__WORKERS": "4",
        "ROUTEIQ_SECURITY__MASTER_KEY": MASTER,
        "ROUTEIQ_QUOTA__BACKEND": "redis",
        "ROUTEIQ_QUOTA__REDIS_URL": redis_url,
        "ROUTEIQ_QUOTA__NAMESPACE": f"test-{uuid.uuid4().hex}",
    }
    with GatewayProcess(CONFIG, env=env) as gw:
        created = httpx.post(
            f"{gw.base_url}/admin/keys",
            json={"rpm": 50},
            headers={"Authorization": f"Bearer {MASTER}"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        key = created.json()["key"]

        async def burst() -> list[int]:
            statuses: list[int] = []
            limits = httpx.Limits(max_connections=200)
            async with httpx.AsyncClient(timeout=30, limits=limits) as client:

                async def one() -> None:
                    r = await client.post(
                        f"{gw.base_url}/v1/chat/completions",
                        json={"model": "demo", "messages": [{"role": "user", "content": "hi"}]},
                        headers={"Authorization": f"Bearer {key}"},
                    )
                    statuses.append(r.status_code)

                async with anyio.create_task_group() as tg:
                    for _ in range(200):
                        tg.start_soon(one)
            return statuses

        statuses = anyio.run(burst)
    assert len(statuses) == 200
    assert statuses.count(200) == 50
    assert statuses.count(429) == 150
