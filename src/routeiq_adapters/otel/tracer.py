"""The OpenTelemetry adapter of the tracing port: spans recorded lean, delivered to the SDK's processors.

The SDK's own ``Span`` costs about 13 µs to start and end on this machine (locks, bounded attribute
maps, context lookups) — three spans a call would cost RouteIQ a quarter of its throughput. So a
span here is a small object: ids from the provider's id generator, the sampling decision from its
sampler (taken at the root of RouteIQ's spans — the server span, or a span continuing a remote
parent — and inherited by its children, as the default ``parentbased_*`` samplers do), attributes
in a plain dict. When it ends it becomes an SDK ``ReadableSpan`` handed to the span processors
(batch export, in-memory in tests), which see finished spans only (``on_start`` is not called).

Parents are explicit — nothing is read from or written to OpenTelemetry's implicit current
context — so a span opened in one step of a call is the parent of the next, whatever task runs it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, Sampler
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, Status, StatusCode, TraceFlags, TraceState
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from routeiq_core import span_names
from routeiq_core.tracing import AttributeValue, Span, SpanKind

_PROPAGATOR = TraceContextTextMapPropagator()
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_UNSAMPLED = TraceFlags(TraceFlags.DEFAULT)
_UNSET = Status(StatusCode.UNSET)
_ALWAYS_ON = frozenset({"AlwaysOnSampler", ParentBased(ALWAYS_ON).get_description()})  # type: ignore[no-untyped-call]


class SpanPipeline:
    """Where finished spans go, and how spans are sampled, identified and described.

    Args:
        processors: The span processors (a batch processor per exporter; in tests, in-memory).
        sampler: Decides at the root of RouteIQ's spans (the SDK's default reads ``OTEL_TRACES_SAMPLER``).
        id_generator: Trace and span ids.
        resource: The resource every span carries (``service.name``, ...).
        scope: The instrumentation scope (``routeiq`` and its version).
    """

    def __init__(
        self,
        processors: Sequence[SpanProcessor],
        *,
        sampler: Sampler,
        id_generator: IdGenerator,
        resource: Resource,
        scope: InstrumentationScope,
    ) -> None:
        self.processors = tuple(processors)
        self.sampler = sampler
        self.always_on = sampler.get_description() in _ALWAYS_ON
        """Every root is sampled and children follow their parent: no need to ask the sampler."""
        self.ids = id_generator
        self.resource = resource
        self.scope = scope

    def shutdown(self) -> None:
        """Flush and stop every processor (what is batched gets exported)."""
        for processor in self.processors:
            processor.shutdown()


class OTelSpan:
    """One span behind the core's :class:`~routeiq_core.tracing.Span` port.

    Ids are kept as plain ints (the SDK's ``SpanContext`` is built once, when a parent or the
    finished span needs it), attributes in a plain dict.
    """

    __slots__ = (
        "_attributes",
        "_context",
        "_ended",
        "_kind",
        "_name",
        "_parent",
        "_pipeline",
        "_span_id",
        "_start",
        "_state",
        "_status",
        "_trace_id",
        "recording",
    )

    def __init__(
        self,
        pipeline: SpanPipeline,
        name: str,
        kind: trace.SpanKind,
        ids: tuple[int, int, bool, TraceState | None],
        parent: SpanContext | None,
        attributes: Mapping[str, AttributeValue] | None,
    ) -> None:
        self._pipeline = pipeline
        self._name = name
        self._kind = kind
        self._trace_id, self._span_id, self.recording, self._state = ids
        self._parent = parent
        self._context: SpanContext | None = None
        self._attributes: dict[str, AttributeValue] = dict(attributes) if attributes else {}
        self._start = time.time_ns()
        self._status = _UNSET
        self._ended = False

    @property
    def context(self) -> SpanContext:
        """The SDK's context of this span (built on first use)."""
        context = self._context
        if context is None:
            flags = _SAMPLED if self.recording else _UNSAMPLED
            context = self._context = SpanContext(self._trace_id, self._span_id, False, flags, self._state)
        return context

    @property
    def trace_id(self) -> str | None:
        """The trace id in hex."""
        return format(self._trace_id, "032x")

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Set one attribute."""
        self._attributes[key] = value

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        """Set several attributes."""
        self._attributes.update(attributes)

    def fail(self, error_type: str, message: str | None = None) -> None:
        """Status error with ``error.type``."""
        self._attributes[span_names.ERROR_TYPE] = error_type
        self._status = Status(StatusCode.ERROR, message)

    def propagation_headers(self) -> dict[str, str]:
        """``traceparent`` (and ``tracestate`` when there is one) naming this span."""
        flags = "01" if self.recording else "00"
        headers = {"traceparent": f"00-{self._trace_id:032x}-{self._span_id:016x}-{flags}"}
        if self._state:
            headers["tracestate"] = self._state.to_header()
        return headers

    def end(self) -> None:
        """End the span once; a sampled span goes to the processors."""
        if self._ended:
            return
        self._ended = True
        if not self.recording:
            return
        pipeline = self._pipeline
        finished = ReadableSpan(
            self._name,
            context=self.context,
            parent=self._parent,
            resource=pipeline.resource,
            attributes=self._attributes,
            kind=self._kind,
            status=self._status,
            start_time=self._start,
            end_time=time.time_ns(),
            instrumentation_scope=pipeline.scope,
        )
        for processor in pipeline.processors:
            processor.on_end(finished)


class OTelTracer:
    """Starts :class:`OTelSpan` s on a :class:`SpanPipeline`."""

    def __init__(self, pipeline: SpanPipeline) -> None:
        self._pipeline = pipeline

    @property
    def enabled(self) -> bool:
        """Always True: this tracer exists only when tracing is on."""
        return True

    def start(
        self,
        name: str,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        parent: Span | None = None,
        remote_parent: Mapping[str, str] | None = None,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> Span:
        """Start a span under ``parent``, else under the W3C context of ``remote_parent``, else a root."""
        pipeline = self._pipeline
        otel_kind = _otel_kind(kind)
        span_id = pipeline.ids.generate_span_id()
        if isinstance(parent, OTelSpan):
            ids = (parent._trace_id, span_id, parent.recording, parent._state)
            return OTelSpan(pipeline, name, otel_kind, ids, parent.context, attributes)
        remote = _remote(remote_parent) if remote_parent else None
        if pipeline.always_on and (remote is None or remote.trace_flags.sampled):
            trace_id = remote.trace_id if remote is not None else pipeline.ids.generate_trace_id()
            state = remote.trace_state if remote is not None else None
            return OTelSpan(pipeline, name, otel_kind, (trace_id, span_id, True, state), remote, attributes)
        return self._sampled(name, otel_kind, span_id, remote, attributes)

    def _sampled(
        self,
        name: str,
        kind: trace.SpanKind,
        span_id: int,
        remote: SpanContext | None,
        attributes: Mapping[str, AttributeValue] | None,
    ) -> OTelSpan:
        """A root span (or one continuing a remote parent) as the sampler decides."""
        pipeline = self._pipeline
        trace_id = remote.trace_id if remote is not None else pipeline.ids.generate_trace_id()
        parent = trace.set_span_in_context(trace.NonRecordingSpan(remote)) if remote is not None else None
        decision = pipeline.sampler.should_sample(parent, trace_id, name, kind, attributes)
        sampled = decision.decision.is_sampled()  # type: ignore[no-untyped-call]
        span = OTelSpan(
            pipeline, name, kind, (trace_id, span_id, sampled, decision.trace_state), remote, attributes
        )
        if decision.attributes:
            span.set_attributes(decision.attributes)
        return span


def _otel_kind(kind: SpanKind) -> trace.SpanKind:
    """The SDK's kind (compared by identity: an Enum's hash is a Python call)."""
    if kind is SpanKind.SERVER:
        return trace.SpanKind.SERVER
    if kind is SpanKind.CLIENT:
        return trace.SpanKind.CLIENT
    return trace.SpanKind.INTERNAL


def _remote(headers: Mapping[str, str]) -> SpanContext | None:
    """The client's span context from its W3C headers (None when absent or malformed)."""
    context = trace.get_current_span(_PROPAGATOR.extract(headers)).get_span_context()
    return context if context.is_valid else None
