"""``GET /metrics``: the whole node's metrics in the Prometheus text format."""

from __future__ import annotations

import anyio
from litestar import Request, Response, get
from litestar.di import NamedDependency

from routeiq_adapters.metrics.node import NodeMetrics
from routeiq_adapters.metrics.prometheus import CONTENT_TYPE, render
from routeiq_app.surfaces.http import HttpRequestReader
from routeiq_core.access import require
from routeiq_core.calls import CallAccess


@get("/metrics", summary="Prometheus metrics of the whole node", tags=["observability"])
async def prometheus_metrics(
    request: Request,  # type: ignore[type-arg]
    node_metrics: NamedDependency[NodeMetrics],
    call_access: NamedDependency[CallAccess],
    http_reader: NamedDependency[HttpRequestReader],
    metrics_public: NamedDependency[bool],
) -> Response[str]:
    """Every worker's counters and histograms summed, gauges of the running ones (see docs/observability.md).

    Needs a key with ``metrics.read`` (the master key, admins, viewers) unless
    ``observability.metrics_public`` is set.
    """
    if not metrics_public:
        principal = await call_access.identify(http_reader.credentials(request.scope))  # type: ignore[arg-type]
        require(principal, "metrics.read")
    text = await anyio.to_thread.run_sync(lambda: render(node_metrics.node_state()))
    return Response(text, media_type=CONTENT_TYPE)
