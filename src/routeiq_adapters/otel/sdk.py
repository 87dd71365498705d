"""Building the OpenTelemetry SDK's providers, configured by the standard ``OTEL_*`` variables.

Exporters are chosen by ``OTEL_TRACES_EXPORTER`` / ``OTEL_METRICS_EXPORTER`` (``otlp``, the default;
``console``; ``none``), the OTLP exporter (HTTP/protobuf) reads its own variables
(``OTEL_EXPORTER_OTLP_ENDPOINT``, ``..._HEADERS``, ``..._TIMEOUT``), the sampler
``OTEL_TRACES_SAMPLER`` and the resource ``OTEL_RESOURCE_ATTRIBUTES``, as the SDK does. Spans leave
through a batch processor: exporting never runs on a request's path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from routeiq_adapters.otel.metrics import OTelMetrics
from routeiq_adapters.otel.tracer import OTelTracer, SpanPipeline
from routeiq_core import __version__

SCOPE = "routeiq"
EXPORTERS = ("otlp", "console", "none")


def exporter_names(value: str | None) -> list[str]:
    """The exporters a comma-separated ``OTEL_*_EXPORTER`` value names (``otlp`` when unset).

    Raises:
        ValueError: a name RouteIQ cannot export to.
    """
    names = [n.strip() for n in (value or "otlp").split(",") if n.strip()]
    unknown = [n for n in names if n not in EXPORTERS]
    if unknown:
        raise ValueError(f"unknown exporter {', '.join(unknown)} (use {', '.join(EXPORTERS)})")
    return [n for n in names if n != "none"]


def resource(service_name: str) -> Resource:
    """The resource: ``service.name`` and version, merged with ``OTEL_RESOURCE_ATTRIBUTES``."""
    return Resource.create({"service.name": service_name, "service.version": __version__})


def span_pipeline(
    service_name: str, environ: Mapping[str, str], processors: Sequence[SpanProcessor] | None = None
) -> SpanPipeline:
    """Where spans go: a batch processor per exporter ``OTEL_TRACES_EXPORTER`` names (or ``processors``).

    The sampler is the SDK's default, read from ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG``.
    """
    if processors is None:
        processors = [
            BatchSpanProcessor(_span_exporter(name))
            for name in exporter_names(environ.get("OTEL_TRACES_EXPORTER"))
        ]
    sampler = TracerProvider(shutdown_on_exit=False).sampler  # the SDK's reading of OTEL_TRACES_SAMPLER
    return SpanPipeline(
        processors,
        sampler=sampler,
        id_generator=RandomIdGenerator(),
        resource=resource(service_name),
        scope=InstrumentationScope(SCOPE, __version__),
    )


def meter_provider(service_name: str, environ: Mapping[str, str]) -> MeterProvider:
    """A meter provider exporting to ``OTEL_METRICS_EXPORTER`` every ``OTEL_METRIC_EXPORT_INTERVAL`` ms."""
    readers: list[MetricReader] = []
    for name in exporter_names(environ.get("OTEL_METRICS_EXPORTER")):
        if name == "console":
            readers.append(PeriodicExportingMetricReader(ConsoleMetricExporter()))
        else:
            readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    return MeterProvider(resource=resource(service_name), metric_readers=readers)


def otel_tracer(pipeline: SpanPipeline) -> OTelTracer:
    """RouteIQ's tracer on ``pipeline``."""
    return OTelTracer(pipeline)


def otel_metrics(provider: MeterProvider) -> OTelMetrics:
    """RouteIQ's metrics on ``provider``."""
    return OTelMetrics(provider.get_meter(SCOPE, __version__))


def _span_exporter(name: str) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    return OTLPSpanExporter()
