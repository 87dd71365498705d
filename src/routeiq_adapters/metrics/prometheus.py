"""Metrics in the Prometheus text exposition format (version 0.0.4), for ``GET /metrics``.

Names follow the OpenTelemetry-to-Prometheus conventions: dots become underscores, a unit of ``s``
adds ``_seconds``, counters end in ``_total`` (so ``gen_ai.client.operation.duration`` is
``gen_ai_client_operation_duration_seconds``); label keys lose their dots the same way. Help, type
and unit come from :mod:`routeiq_core.metric_names`; a name it does not declare (a third-party
plugin's) is exported under its sanitised name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TypeVar

from routeiq_adapters.metrics.memory import HistogramSeries, MetricsState, Series
from routeiq_core.metric_names import BY_NAME, MetricSpec

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_INVALID = re.compile(r"[^a-zA-Z0-9_:]")
_UNIT_SUFFIXES: Mapping[str, str] = MappingProxyType({"s": "_seconds"})
T = TypeVar("T", Series, HistogramSeries)


def prometheus_name(name: str, kind: str) -> str:
    """The exported name of metric ``name`` (``kind``: counter, histogram or gauge)."""
    spec = BY_NAME.get(name)
    base = _INVALID.sub("_", name)
    if base[:1].isdigit():
        base = "_" + base
    suffix = _UNIT_SUFFIXES.get(spec.unit, "") if spec is not None else ""
    if suffix and not base.endswith(suffix):
        base += suffix
    return base + "_total" if kind == "counter" and not base.endswith("_total") else base


def render(state: MetricsState) -> str:
    """The whole exposition: one family per metric, each with HELP and TYPE."""
    out: list[str] = []
    for kind, series in (("counter", state.counters), ("gauge", state.gauges)):
        for name, members in _families(series):
            exported = prometheus_name(name, kind)
            out += _header(exported, kind, BY_NAME.get(name))
            out += [f"{exported}{_labels(s.labels)} {_number(s.value)}" for s in members]
    for name, histograms in _families(state.histograms):
        exported = prometheus_name(name, "histogram")
        out += _header(exported, "histogram", BY_NAME.get(name))
        for h in histograms:
            out += _histogram_lines(exported, h)
    return "\n".join(out) + "\n"


def _families(series: Iterable[T]) -> list[tuple[str, list[T]]]:
    grouped: dict[str, list[T]] = {}
    for item in series:
        grouped.setdefault(item.name, []).append(item)
    return sorted(grouped.items())


def _header(exported: str, kind: str, spec: MetricSpec | None) -> list[str]:
    if spec is None:
        help_text = "Not declared by RouteIQ (a plugin's metric)."
    else:
        help_text = f"{spec.description} Unit: {spec.unit}." if spec.unit != "1" else spec.description
    return [f"# HELP {exported} {_escape_help(help_text)}", f"# TYPE {exported} {kind}"]


def _histogram_lines(exported: str, h: HistogramSeries) -> list[str]:
    lines = []
    cumulative = 0
    for bound, count in zip((*h.bounds, math.inf), h.counts, strict=True):
        cumulative += count
        le = "+Inf" if math.isinf(bound) else _number(bound)
        lines.append(f"{exported}_bucket{_labels({**h.labels, 'le': le})} {cumulative}")
    lines.append(f"{exported}_sum{_labels(h.labels)} {_number(h.total)}")
    lines.append(f"{exported}_count{_labels(h.labels)} {h.count}")
    return lines


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    body = ",".join(f'{_INVALID.sub("_", k)}="{_escape_value(str(v))}"' for k, v in sorted(labels.items()))
    return "{" + body + "}"


def _escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(int(value)) if float(value).is_integer() and abs(value) < 2**53 else repr(float(value))
