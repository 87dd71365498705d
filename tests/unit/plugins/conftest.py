"""Async tests here run on asyncio through the anyio pytest plugin."""

import pytest

from routeiq_adapters.metrics.memory import InMemoryMetrics
from routeiq_adapters.plugins import PluginDeps


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def metrics() -> InMemoryMetrics:
    return InMemoryMetrics()


@pytest.fixture
def deps(metrics: InMemoryMetrics) -> PluginDeps:
    return PluginDeps(metrics=metrics)
