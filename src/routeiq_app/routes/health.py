"""Liveness and readiness probes: unauthenticated, cheap, never shed."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency

from routeiq_core import __version__
from routeiq_core.health import Readiness


class Liveness(msgspec.Struct, kw_only=True):
    """The liveness answer."""

    status: str
    version: str


@get("/health/live", summary="Liveness: the process is up", tags=["health"], sync_to_thread=False)
def live() -> Liveness:
    """Answer 200 while the process runs."""
    return Liveness(status="ok", version=__version__)


@get("/health/ready", summary="Readiness: dependencies are ready", tags=["health"])
async def ready(readiness: NamedDependency[Readiness]) -> Response[bytes]:
    """Answer 200 (ok or degraded, with reasons) or 503 when the process should get no traffic."""
    report = await readiness.report()
    return probe_response(report, ready=report.ready)


def probe_response(body: Any, *, ready: bool) -> Response[bytes]:
    """``body`` as JSON with the readiness probe's status: 200 when ready, 503 when not."""
    return Response(
        content=msgspec.json.encode(body), status_code=200 if ready else 503, media_type="application/json"
    )
