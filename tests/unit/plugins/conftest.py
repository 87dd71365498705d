"""Fixtures of the plugin unit tests: in-memory metrics and the plugin dependencies built on them."""

import pytest

from routeiq_adapters.metrics.memory import InMemoryMetrics
from routeiq_adapters.plugins import PluginDeps


@pytest.fixture
def metrics() -> InMemoryMetrics:
    return InMemoryMetrics()


@pytest.fixture
def deps(metrics: InMemoryMetrics) -> PluginDeps:
    return PluginDeps(metrics=metrics)
