"""The OpenTelemetry metrics adapter: instruments from the one names module, the tee, when it is on."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from routeiq_adapters.metrics import InMemoryMetrics
from routeiq_adapters.metrics.tee import TeeMetrics
from routeiq_adapters.otel import sdk
from routeiq_adapters.otel.metrics import OTelMetrics
from routeiq_app import otel_setup
from routeiq_core import metric_names as names
from routeiq_core.errors import ConfigurationError
from routeiq_core.metrics import counter_recorder, histogram_recorder


def _points(reader: InMemoryMetricReader) -> dict[str, list[object]]:
    data = reader.get_metrics_data()
    assert data is not None
    found: dict[str, list[object]] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found[metric.name] = [metric, *metric.data.data_points]
    return found


def test_counters_and_histograms_use_the_declared_units_and_buckets() -> None:
    reader = InMemoryMetricReader()
    metrics = OTelMetrics(MeterProvider(metric_readers=[reader]).get_meter("test"))
    labels = {names.OPERATION_NAME: "chat", names.REQUEST_MODEL: "m"}
    metrics.observe(names.OPERATION_DURATION, 0.05, **labels)
    histogram_recorder(metrics, names.OPERATION_DURATION, **labels)(0.3)
    metrics.increment(names.RETRIES, model="g")
    counter_recorder(metrics, names.RETRIES, model="g")(2.0)
    points = _points(reader)
    duration, point = points[names.OPERATION_DURATION][:2]
    assert duration.unit == "s"  # type: ignore[attr-defined]
    assert tuple(point.explicit_bounds) == names.DURATION_BUCKETS  # type: ignore[attr-defined]
    assert point.count == 2  # type: ignore[attr-defined]
    assert dict(point.attributes) == labels  # type: ignore[attr-defined]
    retries = points[names.RETRIES][1]
    assert retries.value == 3.0  # type: ignore[attr-defined]


def test_the_tee_records_into_every_sink() -> None:
    reader = InMemoryMetricReader()
    memory = InMemoryMetrics()
    tee = TeeMetrics(memory, OTelMetrics(MeterProvider(metric_readers=[reader]).get_meter("test")))
    counter_recorder(tee, names.SPEND, model_group="g", deployment="d")(0.5)
    tee.increment(names.SPEND, 0.25, model_group="g", deployment="d")
    (spend,) = [p for p in memory.snapshot() if p.name == names.SPEND]
    assert spend.value == 0.75
    assert _points(reader)[names.SPEND][1].value == 0.75  # type: ignore[attr-defined]


def test_metrics_go_only_to_memory_when_otel_metrics_are_off() -> None:
    memory = InMemoryMetrics()
    assert otel_setup.emitted_metrics(memory, None) is memory


def test_exporter_names_are_checked() -> None:
    assert sdk.exporter_names(None) == ["otlp"]
    assert sdk.exporter_names("console, none") == ["console"]
    with pytest.raises(ValueError, match="zipkin"):
        sdk.exporter_names("zipkin")


def test_on_without_the_sdk_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(otel_setup.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigurationError, match=r"routeiq\[otel\]"):
        otel_setup._sdk("tracing")
