"""`routeiq serve` (2 workers) exporting traces and metrics over OTLP/HTTP to a local collector.

The collector is an aiohttp server decoding the OTLP protobuf requests, as a real collector would:
configured only by the standard ``OTEL_*`` variables, the workers' spans and metrics arrive.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from routeiq_core import metric_names, span_names
from tests.support.gateway_process import GatewayProcess

CONFIG = """
model_list:
  - model_name: demo
    litellm_params: {model: mock/demo}
server: {workers: 2}
"""


class Collector:
    """Accepts OTLP/HTTP protobuf exports on 127.0.0.1 and keeps what it decoded."""

    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.resources: list[dict[str, Any]] = []
        self.metric_names: set[str] = set()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._runner: web.AppRunner | None = None

    async def _traces(self, request: web.Request) -> web.Response:
        export = ExportTraceServiceRequest.FromString(await request.read())
        with self._lock:
            for resource_spans in export.resource_spans:
                self.resources.append(
                    {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                )
                for scope in resource_spans.scope_spans:
                    self.spans.extend(scope.spans)
        return web.Response(content_type="application/x-protobuf", body=b"")

    async def _metrics(self, request: web.Request) -> web.Response:
        export = ExportMetricsServiceRequest.FromString(await request.read())
        with self._lock:
            for resource_metrics in export.resource_metrics:
                for scope in resource_metrics.scope_metrics:
                    self.metric_names.update(m.name for m in scope.metrics)
        return web.Response(content_type="application/x-protobuf", body=b"")

    def __enter__(self) -> Collector:
        app = web.Application()
        app.router.add_post("/v1/traces", self._traces)
        app.router.add_post("/v1/metrics", self._metrics)
        self._runner = web.AppRunner(app)
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            assert self._runner is not None
            self._loop.run_until_complete(self._runner.setup())
            self._loop.run_until_complete(web.SockSite(self._runner, self._sock).start())
            ready.set()
            self._loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    with Collector() as c:
        yield c


def test_two_workers_export_their_spans_and_metrics_to_the_collector(collector: Collector) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        "OTEL_SERVICE_NAME": "routeiq-otlp-test",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_METRIC_EXPORT_INTERVAL": "300",
    }
    trace_ids = set()
    with GatewayProcess(CONFIG, env) as gw:
        for n in range(12):
            parent = f"00-{n + 1:032x}-{n + 1:016x}-01"
            r = httpx.post(
                f"{gw.base_url}/v1/chat/completions",
                json={"model": "demo", "messages": [{"role": "user", "content": "hi"}]},
                headers={"traceparent": parent},
                timeout=10,
            )
            assert r.status_code == 200, r.text
            trace_ids.add(bytes.fromhex(f"{n + 1:032x}"))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with collector._lock:
                servers = [s for s in collector.spans if s.name == "POST /v1/chat/completions"]
                done = len(servers) >= 12 and metric_names.OPERATION_DURATION in collector.metric_names
            if done:
                break
            time.sleep(0.1)
    with collector._lock:
        spans = list(collector.spans)
        names = set(collector.metric_names)
        resources = list(collector.resources)
    servers = [s for s in spans if s.name == "POST /v1/chat/completions"]
    assert {s.trace_id for s in servers} == trace_ids  # every call continued its client's trace
    attempts = [s for s in spans if s.name == "chat demo"]
    assert len(attempts) == 12
    attributes = {a.key for a in attempts[0].attributes}
    assert {span_names.OPERATION_NAME, span_names.PROVIDER_NAME, span_names.USAGE_INPUT_TOKENS} <= attributes
    assert all(r.get("service.name") == "routeiq-otlp-test" for r in resources)
    assert {metric_names.OPERATION_DURATION, metric_names.TOKEN_USAGE, metric_names.REQUESTS} <= names
