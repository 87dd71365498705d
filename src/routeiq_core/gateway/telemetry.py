"""The GenAI client metrics of upstream calls: operation duration, time to first chunk, token usage.

Labels follow the OpenTelemetry GenAI conventions. They are built once per deployment and operation
from the *configured* deployment (a wildcard group's ``openai/*``, not what a client asked for), so
their number is bounded by the configuration, and each series is resolved once and reused (the hot
path records a number, it does not build labels). ``Deployment.attributes`` (set by the app, which
knows the adapters) supplies ``gen_ai.provider.name``, ``server.address`` and ``server.port``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from routeiq_core import metric_names as names
from routeiq_core.catalog import Deployment, ModelCatalog
from routeiq_core.metrics import Metrics, Record, histogram_recorder
from routeiq_core.providers import Operation, Usage

OPERATION_NAMES: Mapping[Operation, str] = MappingProxyType(
    {Operation.CHAT: "chat", Operation.COMPLETIONS: "text_completion", Operation.EMBEDDINGS: "embeddings"}
)
"""RouteIQ's operations by their GenAI convention names."""

_SeriesKey = tuple[str, str, Operation, str | None]  # (metric, deployment id, operation, variant)


class UpstreamTelemetry:
    """Records the GenAI client metrics of the gateway's upstream attempts."""

    def __init__(self, metrics: Metrics, catalog: ModelCatalog) -> None:
        self._metrics = metrics
        self._catalog = catalog
        self._series: dict[_SeriesKey, Record] = {}

    def attempt(
        self, d: Deployment, operation: Operation, seconds: float, error_type: str | None = None
    ) -> None:
        """An upstream attempt took ``seconds`` (``error_type``: its status, or ``timeout``, if it failed)."""
        self._record(names.OPERATION_DURATION, d, operation, names.ERROR_TYPE, error_type)(seconds)

    def first_chunk(self, d: Deployment, operation: Operation, seconds: float) -> None:
        """A stream's first chunk came ``seconds`` after the request was sent."""
        self._record(names.TIME_TO_FIRST_CHUNK, d, operation)(seconds)

    def tokens(self, deployment_id: str, operation: Operation, usage: Usage) -> None:
        """The input and output tokens of an answered call."""
        d = self._catalog.deployment(deployment_id)
        if d is None:
            return
        self._record(names.TOKEN_USAGE, d, operation, names.TOKEN_TYPE, "input")(usage.prompt_tokens)
        self._record(names.TOKEN_USAGE, d, operation, names.TOKEN_TYPE, "output")(usage.completion_tokens)

    def _record(
        self, metric: str, d: Deployment, operation: Operation, key: str = "", variant: str | None = None
    ) -> Record:
        cache_key = (metric, d.id, operation, variant)
        found = self._series.get(cache_key)
        if found is not None:
            return found
        configured = self._catalog.deployment(d.id)
        source = configured or d
        labels = {
            names.OPERATION_NAME: OPERATION_NAMES.get(operation, str(operation)),
            names.REQUEST_MODEL: source.upstream_model,
            **source.attributes,
        }
        if variant is not None:
            labels[key] = variant
        record = histogram_recorder(self._metrics, metric, **labels)
        if configured is not None:  # bounded: configured deployments x operations x variants
            self._series[cache_key] = record
        return record
