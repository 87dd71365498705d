"""The mock adapter's own knobs: injected failures, echo, determinism (the port contract is shared)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from routeiq_adapters.providers.mock import MockBehaviour, MockProvider
from routeiq_core.catalog import Deployment
from routeiq_core.errors import UpstreamError
from routeiq_core.providers import Operation

pytestmark = pytest.mark.anyio


def _mock(**behaviour: Any) -> Deployment:
    return Deployment(
        id="mock-d",
        model_group="g",
        adapter="mock",
        upstream_model="m",
        params={"mock": MockBehaviour(**behaviour)},
    )


async def test_mock_injected_failures_use_the_configured_status() -> None:
    provider = MockProvider()
    with pytest.raises(UpstreamError) as caught:
        await provider.send(
            _mock(error_rate=1.0, error_status=503), Operation.CHAT, {"model": "m"}, timeout_s=1
        )
    assert (caught.value.status_code, caught.value.retryable) == (503, True)
    with pytest.raises(UpstreamError) as final:
        await provider.send(
            _mock(error_rate=1.0, error_status=400), Operation.CHAT, {"model": "m"}, timeout_s=1
        )
    assert (final.value.status_code, final.value.retryable) == (400, False)


async def test_mock_echoes_the_last_user_message() -> None:
    payload = {"model": "m", "messages": [{"role": "user", "content": "repeat after me"}]}
    reply = await MockProvider().send(_mock(echo=True), Operation.CHAT, payload, timeout_s=1)
    assert msgspec.json.decode(reply.body)["choices"][0]["message"]["content"] == "repeat after me"


async def test_mock_is_deterministic() -> None:
    async def outcomes() -> list[bool]:
        provider, results = MockProvider(), []
        for _ in range(20):
            try:
                await provider.send(
                    _mock(error_rate=0.5, seed=7), Operation.CHAT, {"model": "m"}, timeout_s=1
                )
                results.append(True)
            except UpstreamError:
                results.append(False)
        return results

    first = await outcomes()
    assert first == await outcomes()
    assert True in first
    assert False in first
    embed = {"model": "m", "input": ["same text"]}
    a = await MockProvider().send(_mock(), Operation.EMBEDDINGS, embed, timeout_s=1)
    b = await MockProvider().send(_mock(), Operation.EMBEDDINGS, embed, timeout_s=1)
    assert a.body == b.body
