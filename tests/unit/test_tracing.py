"""The tracing port: attribute names declared once, spans of the use case and gateway, off costs nothing."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import anyio
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from routeiq_adapters.otel.sdk import span_pipeline
from routeiq_adapters.otel.tracer import OTelTracer
from routeiq_app.otel_setup import wanted
from routeiq_core import span_names
from routeiq_core.context import CallContext
from routeiq_core.gateway.tracing import request_attributes
from routeiq_core.tracing import NOOP_SPAN, NOOP_TRACER
from routeiq_core.tracing import SpanKind as CoreKind
from tests.support.providers import deployment, failure
from tests.unit.calls.test_call_service import Harness, command

SRC = Path(__file__).parent.parent.parent / "src"
_SPAN_NAME_CONSTANTS = {
    "SERVER_SPAN",
    "CALL_SPAN",
    "ROUTE_SPAN",
    "QUOTA_SPAN",
    "PLUGINS_SPAN",
    "ATTEMPT_SPAN",
}


def _attribute_constants() -> dict[str, str]:
    return {
        name: value
        for name, value in vars(span_names).items()
        if name.isupper()
        and not name.startswith("_")
        and isinstance(value, str)
        and name not in _SPAN_NAME_CONSTANTS
    }


def _used_constants() -> set[str]:
    """Constants of span_names referenced anywhere in the code (by any alias of the module)."""
    used = set()
    for path in SRC.rglob("*.py"):
        if path.name == "span_names.py":
            continue
        tree = ast.parse(path.read_text())
        aliases = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "routeiq_core"
            for alias in node.names
            if alias.name == "span_names"
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
            ):
                used.add(node.attr)
    return used


def _literal_attribute_keys() -> list[str]:
    """``set_attribute("...")`` calls with a literal key instead of a span_names constant."""
    found = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "set_attribute"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    return found


def test_every_attribute_is_declared_once_documented_and_used() -> None:
    declared = [a.key for a in span_names.SPAN_ATTRIBUTES]
    assert len(declared) == len(set(declared))
    constants = _attribute_constants()
    assert sorted(constants.values()) == sorted(declared)
    assert sorted(set(constants) - _used_constants()) == []
    assert _literal_attribute_keys() == []


def test_genai_attribute_names_follow_the_conventions() -> None:
    for spec in span_names.SPAN_ATTRIBUTES:
        prefix = spec.key.split(".", 1)[0]
        assert prefix in {"gen_ai", "http", "url", "client", "user_agent", "server", "error", "routeiq"}, (
            spec.key
        )


def test_request_attributes_take_only_well_typed_values() -> None:
    payload = {
        "temperature": 1,
        "top_p": "high",
        "stop": ["a", 2],
        "seed": True,
        "n": 3,
        "presence_penalty": 0.5,
    }
    found = request_attributes(payload, 64)
    assert found == {
        span_names.REQUEST_TEMPERATURE: 1.0,
        span_names.REQUEST_PRESENCE_PENALTY: 0.5,
        span_names.REQUEST_MAX_TOKENS: 64,
        span_names.REQUEST_CHOICE_COUNT: 3,
    }


@pytest.mark.parametrize(
    ("switch", "environ", "on"),
    [
        ("auto", {}, False),
        ("auto", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, True),
        ("auto", {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, True),
        ("auto", {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, False),
        ("auto", {"OTEL_TRACES_EXPORTER": "console"}, True),
        ("auto", {"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, False),
        ("on", {}, True),
        ("off", {"OTEL_TRACES_EXPORTER": "otlp"}, False),
    ],
)
def test_when_tracing_is_on(switch: Any, environ: dict[str, str], on: bool) -> None:
    assert wanted(switch, "TRACES", environ) is on


def test_the_noop_tracer_hands_out_one_shared_span_that_records_nothing() -> None:
    span = NOOP_TRACER.start("x", kind=CoreKind.CLIENT, attributes={"a": 1})
    assert span is NOOP_SPAN
    assert not NOOP_TRACER.enabled
    assert not span.recording
    assert span.trace_id is None
    assert span.propagation_headers() == {}


def _tracer() -> tuple[OTelTracer, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    return OTelTracer(span_pipeline("test", {}, [SimpleSpanProcessor(exporter)])), exporter


def _by_name(spans: tuple[ReadableSpan, ...]) -> dict[str, ReadableSpan]:
    return {s.name: s for s in spans}


def test_a_library_call_gets_a_span_of_its_own_with_its_attempts_as_children() -> None:
    tracer, exporter = _tracer()
    harness = Harness(
        (deployment("g", 0, model_group="g"), deployment("g", 1, model_group="g")),
        {"g-0": [failure(503)]},
        tracer=tracer,
    )

    async def run() -> CallContext:
        async with harness.service.call(command()) as result:
            return result.context

    ctx = anyio.run(run)
    spans = exporter.get_finished_spans()
    call = _by_name(spans)["routeiq.call"]
    assert call.parent is None
    attempts = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert [dict(s.attributes or {})[span_names.ATTEMPT] for s in attempts] == [1, 2]
    assert [dict(s.attributes or {})[span_names.DEPLOYMENT] for s in attempts] == ["g-0", "g-1"]
    assert all(s.parent is not None and s.parent.span_id == call.context.span_id for s in attempts)
    assert ctx.trace_id == format(call.context.trace_id, "032x")
    assert ctx.route is not None
    assert dict(call.attributes or {})[span_names.DEPLOYMENT] == ctx.route.deployment_id
    reserve = _by_name(spans)["routeiq.quota.reserve"]
    assert reserve.parent is not None
    assert reserve.parent.span_id == call.context.span_id
    headers = [h for h in harness.client.headers if h]
    assert [h["traceparent"].split("-")[2] for h in headers] == [
        f"{s.context.span_id:016x}" for s in attempts
    ]


def test_tracing_off_sends_no_trace_headers_and_leaves_no_trace_id() -> None:
    harness = Harness((deployment("g", 0, model_group="g"),))

    async def run() -> CallContext:
        async with harness.service.call(command()) as result:
            return result.context

    ctx = anyio.run(run)
    assert ctx.trace_id is None
    assert ctx.span is NOOP_SPAN
    assert harness.client.headers == [{}]
