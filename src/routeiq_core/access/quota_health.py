"""Quota backend outages: declared, never silent.

The monitor tracks whether the quota store answers. Each transition (up → down, down → up) is
logged once and counted once (``routeiq_quota_backend_transitions``); while the store is down only
one request per ``probe_interval_s`` tries it, the others get the outage policy at once instead of
waiting for a timeout. The health check turns readiness ``degraded`` while the store is down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Literal

import anyio

from routeiq_core import metric_names as names
from routeiq_core.access.quota import QuotaStore
from routeiq_core.health import ComponentHealth
from routeiq_core.metrics import Metrics

logger = logging.getLogger("routeiq.quota")

OutagePolicy = Literal["fail_open", "fail_closed"]
BackendState = Literal["up", "down"]


class OutageMonitor:
    """Whether the quota store answers, with transitions reported once each.

    Args:
        policy: What requests get while the store is down: admitted unmetered (``fail_open``) or
            refused with 503 (``fail_closed``).
        metrics: Where transitions are counted.
        probe_interval_s: While down, how often a request may try the store.
        clock: Monotonic seconds.
    """

    def __init__(
        self,
        policy: OutagePolicy,
        metrics: Metrics | None = None,
        probe_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy: OutagePolicy = policy
        self._metrics = metrics
        self._probe_interval_s = probe_interval_s
        self._clock = clock
        self.state: BackendState = "up"
        self.last_error: str | None = None
        self.transitions = 0
        self.closing = False
        self._last_attempt = float("-inf")

    def should_try(self) -> bool:
        """Whether to call the store now (always when up; one probe per interval when down)."""
        if self.state == "up":
            return True
        now = self._clock()
        if now - self._last_attempt >= self._probe_interval_s:
            self._last_attempt = now
            return True
        return False

    def record_success(self) -> None:
        """The store answered."""
        if self.state == "down":
            self._move("up")
            logger.warning("quota backend recovered; limits are enforced again")

    def close(self) -> None:
        """The store is being closed on purpose (shutdown): later failures are not an outage."""
        self.closing = True

    def record_failure(self, error: BaseException) -> None:
        """The store did not answer."""
        self.last_error = f"{type(error).__name__}: {error}"
        self._last_attempt = self._clock()
        if self.closing:  # shutting down: the connection was closed by us, not lost
            logger.debug("quota store call after shutdown began: %s", self.last_error)
            return
        if self.state == "up":
            self._move("down")
            effect = (
                "admitting requests WITHOUT limits (fail_open)"
                if self.policy == "fail_open"
                else "refusing metered requests with 503 (fail_closed)"
            )
            logger.error("quota backend unreachable (%s); %s", self.last_error, effect)

    def _move(self, new: BackendState) -> None:
        old, self.state = self.state, new
        self.transitions += 1
        if self._metrics is not None:
            self._metrics.increment(
                names.QUOTA_BACKEND_TRANSITIONS, from_state=old, to_state=new, policy=self.policy
            )

    def health(self, name: str = "quota") -> ComponentHealth:
        """The store's readiness: ``ok`` while up, else ``down`` or ``degraded`` by the policy.

        ``down`` under ``fail_closed`` (metered requests get 503, so a load balancer should send them
        elsewhere); ``degraded`` under ``fail_open`` (still served, without limits).
        """
        if self.state == "up":
            return ComponentHealth(name=name, status="ok")
        if self.policy == "fail_closed":
            return ComponentHealth(
                name=name,
                status="down",
                reason=f"quota backend unreachable ({self.last_error}): metered requests are refused "
                "with 503 (policy fail_closed)",
            )
        return ComponentHealth(
            name=name,
            status="degraded",
            reason=f"quota backend unreachable ({self.last_error}): requests are admitted without "
            "limits (policy fail_open)",
        )


class QuotaHealthCheck:
    """The ``HealthCheck`` of the quota store: pings it (bounded) and reports the monitor's state.

    Args:
        store: The quota store.
        monitor: The monitor shared with the :class:`QuotaService`, so a probe's outcome counts.
        timeout_s: Longest wait for the ping.
    """

    name = "quota"

    def __init__(self, store: QuotaStore, monitor: OutageMonitor, timeout_s: float = 0.5) -> None:
        self._store = store
        self._monitor = monitor
        self._timeout_s = timeout_s

    async def check(self) -> ComponentHealth:
        """Ping the store and report; never raises."""
        try:
            with anyio.fail_after(self._timeout_s):
                await self._store.ping()
        except Exception as exc:  # any failure to answer is an outage, reported not raised
            self._monitor.record_failure(exc)
        else:
            self._monitor.record_success()
        return self._monitor.health(self.name)
