"""The tracing port: spans the core opens (calls, upstream attempts, routing, quota, plugins).

The core never imports OpenTelemetry. It asks a :class:`Tracer` for spans and sets attributes on
them; the OpenTelemetry adapter (``routeiq_adapters.otel``) turns them into real spans when the
``otel`` extra is installed and tracing is on. Otherwise the tracer is :data:`NOOP_TRACER`: every
span is :data:`NOOP_SPAN`, whose methods do nothing, and callers skip building attributes when
``span.recording`` is False — so tracing off costs a few attribute reads per call.

Span and attribute names are declared once in :mod:`routeiq_core.span_names`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Protocol

AttributeValue = str | bool | int | float | Sequence[str] | Sequence[int] | Sequence[float]
"""What a span attribute may hold (OpenTelemetry's primitive types and homogeneous sequences)."""


class SpanKind(enum.Enum):
    """The role of a span in its trace."""

    INTERNAL = "internal"
    SERVER = "server"
    CLIENT = "client"


class Span(Protocol):
    """One timed operation in a trace."""

    @property
    def recording(self) -> bool:
        """Whether attributes set on this span are kept (False: skip building them)."""
        ...

    @property
    def trace_id(self) -> str | None:
        """The W3C trace id (32 hex digits); None when there is no trace."""
        ...

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Set one attribute."""
        ...

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        """Set several attributes."""
        ...

    def fail(self, error_type: str, message: str | None = None) -> None:
        """Mark the span failed: status error, ``error.type`` set to ``error_type``."""
        ...

    def propagation_headers(self) -> dict[str, str]:
        """The W3C trace context headers (``traceparent``, ``tracestate``) naming this span as parent."""
        ...

    def end(self) -> None:
        """End the span (later calls do nothing)."""
        ...


class Tracer(Protocol):
    """Opens spans."""

    @property
    def enabled(self) -> bool:
        """False for the no-op tracer: callers may skip tracing work altogether."""
        ...

    def start(
        self,
        name: str,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        parent: Span | None = None,
        remote_parent: Mapping[str, str] | None = None,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> Span:
        """Start a span, child of ``parent`` or of the W3C context in ``remote_parent`` (headers)."""
        ...


class _NoopSpan:
    """A span that records nothing."""

    __slots__ = ()

    @property
    def recording(self) -> bool:
        return False

    @property
    def trace_id(self) -> str | None:
        return None

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        return None

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        return None

    def fail(self, error_type: str, message: str | None = None) -> None:
        return None

    def propagation_headers(self) -> dict[str, str]:
        return {}

    def end(self) -> None:
        return None


class _NoopTracer:
    """A tracer whose spans record nothing."""

    __slots__ = ()

    @property
    def enabled(self) -> bool:
        return False

    def start(
        self,
        name: str,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        parent: Span | None = None,
        remote_parent: Mapping[str, str] | None = None,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> Span:
        return NOOP_SPAN


NOOP_SPAN: Span = _NoopSpan()
"""The span of a call when tracing is off."""

NOOP_TRACER: Tracer = _NoopTracer()
"""The tracer when tracing is off."""
