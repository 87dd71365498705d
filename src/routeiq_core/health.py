"""Liveness and readiness: component checks and the process lifecycle they report on."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from typing import Literal, Protocol

import anyio
import msgspec

HealthStatus = Literal["ok", "degraded", "down"]


class ComponentHealth(msgspec.Struct, frozen=True, kw_only=True):
    """What one component says about itself."""

    name: str
    status: HealthStatus
    reason: str | None = None


class HealthCheck(Protocol):
    """A port for anything readiness depends on (a store, a provider pool, the router registry)."""

    name: str

    async def check(self) -> ComponentHealth:
        """Report this component's health; must return quickly and never raise."""
        ...


class Phase(enum.Enum):
    """Where the process is in its life.

    ``RETIRING``: a replacement worker is coming (config reload); still serving, but clients are told
    to close their connections. ``DRAINING``: shutting down; no new requests, in-flight ones finish.
    """

    STARTING = "starting"
    READY = "ready"
    RETIRING = "retiring"
    DRAINING = "draining"
    STOPPED = "stopped"


class Lifecycle:
    """The process phase, moved forward by the app's lifespan (and later by drain on SIGTERM)."""

    def __init__(self) -> None:
        self.phase = Phase.STARTING

    def mark_ready(self) -> None:
        """Startup finished: the process may take traffic."""
        self.phase = Phase.READY

    def mark_retiring(self) -> None:
        """A reload will replace this worker: keep serving, but shed keep-alive connections."""
        if self.phase is Phase.READY:
            self.phase = Phase.RETIRING

    def mark_draining(self) -> None:
        """Shutdown began: readiness turns 503, new requests are refused, in-flight work may finish."""
        if self.phase is not Phase.STOPPED:
            self.phase = Phase.DRAINING

    def mark_stopped(self) -> None:
        """Resources are closed."""
        self.phase = Phase.STOPPED


class ReadinessReport(msgspec.Struct, frozen=True, kw_only=True):
    """The answer of the readiness probe."""

    status: HealthStatus
    phase: str
    version: str
    components: list[ComponentHealth]

    @property
    def ready(self) -> bool:
        """Whether the process should receive traffic (degraded still serves)."""
        return self.status != "down"


class Readiness:
    """Runs every health check concurrently, each bounded by a timeout, and folds the results."""

    def __init__(
        self,
        lifecycle: Lifecycle,
        checks: Sequence[HealthCheck],
        version: str,
        timeout_s: float = 1.0,
    ) -> None:
        self._lifecycle = lifecycle
        self._checks = tuple(checks)
        self._version = version
        self._timeout_s = timeout_s

    async def report(self) -> ReadinessReport:
        """Check every component and say whether the process is ready."""
        results: list[ComponentHealth] = [
            ComponentHealth(name="lifecycle", status="down", reason="no result")
        ] * len(self._checks)

        async def run(index: int, check: HealthCheck) -> None:
            results[index] = await self._checked(check)

        async with anyio.create_task_group() as tg:
            for index, check in enumerate(self._checks):
                tg.start_soon(run, index, check)

        phase = self._lifecycle.phase
        components = [self._phase_health(phase), *results]
        return ReadinessReport(
            status=_worst(c.status for c in components),
            phase=phase.value,
            version=self._version,
            components=components,
        )

    async def _checked(self, check: HealthCheck) -> ComponentHealth:
        try:
            with anyio.fail_after(self._timeout_s):
                return await check.check()
        except TimeoutError:
            return ComponentHealth(
                name=check.name, status="down", reason=f"check took longer than {self._timeout_s}s"
            )
        except Exception as exc:  # a failing check reports, it does not break the probe
            return ComponentHealth(name=check.name, status="down", reason=f"check failed: {exc!r}")

    @staticmethod
    def _phase_health(phase: Phase) -> ComponentHealth:
        if phase is Phase.READY:
            return ComponentHealth(name="lifecycle", status="ok")
        if phase is Phase.RETIRING:
            return ComponentHealth(name="lifecycle", status="ok", reason="being replaced by a reload")
        return ComponentHealth(name="lifecycle", status="down", reason=f"process is {phase.value}")


_SEVERITY: tuple[HealthStatus, ...] = ("ok", "degraded", "down")


def _worst(statuses: Iterable[HealthStatus]) -> HealthStatus:
    return max(statuses, key=_SEVERITY.index, default="ok")
