"""Whether traces and OTel metrics are on, and building them for the container.

``observability.tracing`` / ``otel_metrics``: ``on``, ``off``, or ``auto`` — on when the standard
variables ask for an export. The SDK is imported only when one of them is on; ``on`` without the
``otel`` extra installed is a configuration error (``serve`` exits 2 naming the fix).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal

from routeiq_adapters.metrics.tee import TeeMetrics
from routeiq_app.settings import Settings
from routeiq_core.errors import ConfigurationError
from routeiq_core.metrics import Metrics
from routeiq_core.tracing import NOOP_TRACER, Tracer

logger = logging.getLogger("routeiq.otel")
Switch = Literal["auto", "on", "off"]
_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT",)


def wanted(switch: Switch, signal: Literal["TRACES", "METRICS"], environ: Mapping[str, str]) -> bool:
    """Whether a signal is on: ``on``; or ``auto`` and the ``OTEL_*`` variables ask for an export."""
    if switch != "auto":
        return switch == "on"
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    exporter = environ.get(f"OTEL_{signal}_EXPORTER")
    if exporter is not None:
        return exporter.strip().lower() != "none"
    return any(environ.get(v) for v in (*_ENDPOINTS, f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"))


def _sdk(setting: str) -> Any:
    """The SDK adapter module, or a configuration error saying how to install it."""
    if importlib.util.find_spec("opentelemetry.sdk") is None:
        raise ConfigurationError(
            [
                f"observability.{setting} is on but the OpenTelemetry SDK is not installed: "
                "pip install 'routeiq[otel]' (or set it to off)."
            ]
        )
    from routeiq_adapters.otel import sdk

    return sdk


def span_pipeline(settings: Settings) -> Any:
    """Where spans go (``routeiq_adapters.otel.tracer.SpanPipeline``) when tracing is on, else None."""
    if not wanted(settings.observability.tracing, "TRACES", os.environ):
        return None
    sdk = _sdk("tracing")
    try:
        return sdk.span_pipeline(settings.observability.service_name, os.environ)
    except ValueError as exc:
        raise ConfigurationError([f"OTEL_TRACES_EXPORTER: {exc}"]) from None


def tracer(pipeline: Any) -> Tracer:
    """RouteIQ's tracer on ``pipeline`` (the no-op tracer when tracing is off)."""
    if pipeline is None:
        return NOOP_TRACER
    from routeiq_adapters.otel import sdk

    return sdk.otel_tracer(pipeline)


def meter_provider(settings: Settings) -> Any:
    """The SDK's meter provider when OTel metrics are on, else None."""
    if not wanted(settings.observability.otel_metrics, "METRICS", os.environ):
        return None
    sdk = _sdk("otel_metrics")
    try:
        return sdk.meter_provider(settings.observability.service_name, os.environ)
    except ValueError as exc:
        raise ConfigurationError([f"OTEL_METRICS_EXPORTER: {exc}"]) from None


def emitted_metrics(memory: Metrics, provider: Any) -> Metrics:
    """Where the code counts: the in-memory metrics, and OTel's too when they are on."""
    if provider is None:
        return memory
    from routeiq_adapters.otel import sdk

    return TeeMetrics(memory, sdk.otel_metrics(provider))


async def run_otel(traces: Any, metrics: Any) -> AsyncIterator[None]:
    """Flush and shut the span pipeline and meter provider down when the process stops."""
    try:
        yield
    finally:
        for provider in (traces, metrics):
            if provider is not None:
                try:
                    provider.shutdown()
                except Exception:  # exporting at exit is best effort
                    logger.exception("shutting OpenTelemetry down failed")


def otel_problems(settings: Settings, environ: Mapping[str, str]) -> list[str]:
    """Why the OpenTelemetry settings cannot be served: the SDK missing, an unknown exporter."""
    observability = settings.observability
    problems = []
    for setting, switch, signal in (
        ("tracing", observability.tracing, "TRACES"),
        ("otel_metrics", observability.otel_metrics, "METRICS"),
    ):
        if not wanted(switch, signal, environ):  # type: ignore[arg-type]
            continue
        try:
            sdk = _sdk(setting)
        except ConfigurationError as exc:
            problems += exc.problems
            continue
        try:
            sdk.exporter_names(environ.get(f"OTEL_{signal}_EXPORTER"))
        except ValueError as exc:
            problems.append(f"OTEL_{signal}_EXPORTER: {exc}")
    return problems
