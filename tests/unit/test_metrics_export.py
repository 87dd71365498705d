"""Metric names in one module, the Prometheus exposition, the node merge, and the GenAI client metrics."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import anyio
import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families

from routeiq_adapters.metrics import InMemoryMetrics
from routeiq_adapters.metrics.memory import MetricsState, Series
from routeiq_adapters.metrics.node import NodeMetrics, merge
from routeiq_adapters.metrics.prometheus import prometheus_name, render
from routeiq_app.upstream_attributes import upstream_attributes
from routeiq_core import metric_names as names
from routeiq_core.catalog import ModelGroup
from routeiq_core.context import CallContext
from routeiq_core.metrics import BindsSeries, RouteCounters, counter_recorder, histogram_recorder
from routeiq_core.providers import Operation
from tests.support.gateways import make
from tests.support.providers import deployment, failure

SRC = Path(__file__).parent.parent.parent / "src"


def _emitted_literals() -> list[str]:
    """Metric calls whose name is a string literal instead of a constant of metric_names."""
    found = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("increment", "observe")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.append(f"{path.relative_to(SRC)}:{node.lineno} {node.args[0].value}")
    return found


def _emitted_constants() -> set[str]:
    used = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "names"
            ):
                used.add(node.attr)
    return used


def test_every_metric_is_emitted_by_a_name_declared_in_one_module() -> None:
    assert _emitted_literals() == []
    declared = {k for k, v in vars(names).items() if isinstance(v, str) and v in names.BY_NAME}
    assert len(declared) == len(names.METRICS)  # one constant per declared metric
    attributes = {"OPERATION_NAME", "PROVIDER_NAME", "REQUEST_MODEL", "TOKEN_TYPE", "SERVER_ADDRESS"}
    unused = declared - _emitted_constants() - attributes
    assert unused == set(), "declared but never emitted"


def test_exported_names_are_unique_and_follow_the_prometheus_conventions() -> None:
    exported = [prometheus_name(spec.name, spec.kind) for spec in names.METRICS]
    assert len(set(exported)) == len(exported)
    assert (
        prometheus_name(names.OPERATION_DURATION, "histogram") == "gen_ai_client_operation_duration_seconds"
    )
    assert prometheus_name(names.TOKEN_USAGE, "histogram") == "gen_ai_client_token_usage"
    assert prometheus_name(names.RETRIES, "counter") == "routeiq_retries_total"
    assert names.BY_NAME[names.OPERATION_DURATION].buckets[:3] == (0.01, 0.02, 0.04)
    assert names.BY_NAME[names.TOKEN_USAGE].buckets[-1] == 67108864


def test_the_exposition_parses_and_histograms_are_cumulative() -> None:
    metrics = InMemoryMetrics()
    for value in (0.005, 0.03, 0.03, 100.0):
        metrics.observe(names.OPERATION_DURATION, value, **{names.OPERATION_NAME: "chat"})
    metrics.increment(names.RETRIES, 2, model='a"b\\c\nd')
    metrics.increment("third.party-metric", 1, x="y")
    text = render(metrics.state())
    families = {f.name: f for f in text_string_to_metric_families(text)}
    duration = families["gen_ai_client_operation_duration_seconds"]
    assert duration.type == "histogram"
    buckets = {s.labels["le"]: s.value for s in duration.samples if s.name.endswith("_bucket")}
    assert (buckets["0.01"], buckets["0.04"], buckets["81.92"], buckets["+Inf"]) == (1, 3, 3, 4)
    count = next(s.value for s in duration.samples if s.name.endswith("_count"))
    assert count == 4
    retries = families["routeiq_retries"]
    assert retries.samples[0].labels == {"model": 'a"b\\c\nd'}
    assert retries.samples[0].value == 2
    assert "third_party_metric" in families


def test_node_merge_sums_every_worker_and_keeps_only_live_gauges(tmp_path: Path) -> None:
    def worker(count: float, in_flight: float) -> MetricsState:
        metrics = InMemoryMetrics()
        metrics.increment(names.REQUESTS, count, surface="openai", status="200")
        metrics.observe(names.TOKEN_USAGE, 10)
        state = metrics.state()
        return msgspec.structs.replace(
            state, gauges=(Series(name=names.REQUESTS_IN_FLIGHT, labels={}, value=in_flight),)
        )

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    (tmp_path / f"{dead_pid}-1.json").write_bytes(msgspec.json.encode(worker(5, 7)))
    (tmp_path / f"{os.getppid()}-2.json").write_bytes(msgspec.json.encode(worker(3, 2)))  # alive
    (tmp_path / "garbage-3.json").write_bytes(b"{not json")
    node = NodeMetrics(str(tmp_path), lambda: worker(1, 1)).node_state()
    requests = {s.name: s.value for s in node.counters}
    assert requests[names.REQUESTS] == 9
    assert [s.value for s in node.gauges] == [3]  # the live workers: this one (1) and the parent (2)
    assert node.histograms[0].count == 3
    assert merge([]) == MetricsState()


def test_publish_is_atomic_and_readable_by_the_others(tmp_path: Path) -> None:
    metrics = InMemoryMetrics()
    metrics.increment(names.RETRIES, 4, model="m")
    NodeMetrics(str(tmp_path), metrics.state).publish()
    other = NodeMetrics(str(tmp_path), InMemoryMetrics().state)
    assert [s.value for s in other.node_state().counters] == [4]
    assert list(tmp_path.glob("*.tmp")) == []


def req(stream: bool = False) -> CallContext:
    return CallContext(
        operation=Operation.CHAT,
        model="g",
        payload={"model": "g", "messages": [{"role": "user", "content": "hi"}]},
        stream=stream,
    )


def test_each_attempt_is_timed_and_tokens_counted_with_genai_labels() -> None:
    ds = tuple(
        msgspec.structs.replace(deployment("g", i), attributes={names.PROVIDER_NAME: "openai"})
        for i in range(2)
    )
    gw, _, metrics, _, _ = make([ModelGroup(name="g", deployments=ds)], {"g-0": [failure(503)]})
    anyio.run(gw.complete, req())
    labels = {names.OPERATION_NAME: "chat", names.PROVIDER_NAME: "openai"}
    assert metrics.observations(names.OPERATION_DURATION, **labels) == 2
    assert metrics.observations(names.OPERATION_DURATION, **{names.ERROR_TYPE: "503"}) == 1
    assert metrics.observations(names.OPERATION_DURATION, **{names.REQUEST_MODEL: "g-1-model"}) == 1
    assert metrics.observations(names.TOKEN_USAGE, **{names.TOKEN_TYPE: "input"}) == 1
    assert metrics.observations(names.TOKEN_USAGE, **{names.TOKEN_TYPE: "output"}) == 1
    assert metrics.observations(names.TIME_TO_FIRST_CHUNK) == 0


def test_a_stream_records_its_first_chunk_and_its_duration_at_the_end() -> None:
    gw, _, metrics, _, _ = make([ModelGroup(name="g", deployments=(deployment("g", 0),))])

    async def main() -> None:
        stream = await gw.open_stream(req(stream=True))
        assert metrics.observations(names.TIME_TO_FIRST_CHUNK) == 1
        assert metrics.observations(names.OPERATION_DURATION) == 0
        async for _ in stream.frames:
            pass
        await stream.aclose()

    anyio.run(main)
    assert metrics.observations(names.OPERATION_DURATION) == 1


@pytest.mark.parametrize(
    ("adapter", "model", "base", "expected"),
    [
        ("openai", "openai/gpt-4o", None, ("openai", "api.openai.com", "443")),
        ("openai", "openai/x", "http://vllm.internal:8000/v1", ("openai", "vllm.internal", "8000")),
        ("litellm", "bedrock/anthropic.claude", None, ("aws.bedrock", None, None)),
        (
            "litellm",
            "azure/dep",
            "https://t.openai.azure.com",
            ("azure.ai.openai", "t.openai.azure.com", "443"),
        ),
        ("litellm", "newprovider/m", "http://[::1", ("newprovider", None, None)),
        ("mock", "mock/x", None, ("routeiq.mock", None, None)),
    ],
)
def test_upstream_attributes(adapter: str, model: str, base: str | None, expected: tuple[str, ...]) -> None:
    found = upstream_attributes(adapter, model, base)
    got = (found[names.PROVIDER_NAME], found.get(names.SERVER_ADDRESS), found.get(names.SERVER_PORT))
    assert got == expected


class _PlainMetrics:
    """A metrics adapter without series binding (a third-party one, say)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, float, dict[str, str]]] = []

    def increment(self, name: str, value: float = 1.0, /, **labels: str) -> None:
        self.calls.append(("increment", name, value, labels))

    def observe(self, name: str, value: float, /, **labels: str) -> None:
        self.calls.append(("observe", name, value, labels))


def test_recorders_work_over_adapters_that_cannot_bind_series() -> None:
    plain = _PlainMetrics()
    assert not isinstance(plain, BindsSeries)
    assert isinstance(InMemoryMetrics(), BindsSeries)
    counter_recorder(plain, names.RETRIES, model="m")(2)
    histogram_recorder(plain, names.TOKEN_USAGE, x="y")(5)
    RouteCounters(plain, names.SPEND)("g", "g-0")[0](0.5)
    assert plain.calls == [
        ("increment", names.RETRIES, 2, {"model": "m"}),
        ("observe", names.TOKEN_USAGE, 5, {"x": "y"}),
        ("increment", names.SPEND, 0.5, {"model_group": "g", "deployment": "g-0"}),
    ]


def test_bound_series_count_like_the_plain_calls() -> None:
    bound, plain = InMemoryMetrics(), InMemoryMetrics()
    for value in (0.005, 3.0, 3.0):
        bound.histogram_series(names.OPERATION_DURATION, a="1")(value)
        plain.observe(names.OPERATION_DURATION, value, a="1")
    bound.counter_series(names.RETRIES, model="m")(2)
    plain.increment(names.RETRIES, 2, model="m")
    assert bound.state() == plain.state()
