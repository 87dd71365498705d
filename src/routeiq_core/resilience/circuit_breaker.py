"""Per-deployment circuit breakers: stop sending to an upstream that keeps failing, probe it later."""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable

import msgspec

from routeiq_core import metric_names as names
from routeiq_core.metrics import Metrics

logger = logging.getLogger("routeiq.breaker")


class BreakerState(enum.StrEnum):
    """Closed: traffic flows. Open: none until the cool-down ends. Half-open: one probe at a time."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class BreakerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """When to open and how long to stay open."""

    failure_threshold: int = 5
    cooldown_s: float = 30.0


Transition = Callable[[str, BreakerState, BreakerState], None]


class CircuitBreaker:
    """One deployment's breaker. Consecutive failures open it; a successful probe closes it."""

    def __init__(
        self, key: str, config: BreakerConfig, clock: Callable[[], float], on_transition: Transition
    ):
        self.key = key
        self._config = config
        self._clock = clock
        self._on_transition = on_transition
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False

    def allow(self) -> bool:
        """Whether a request may go to this deployment now (a half-open breaker admits one probe)."""
        if self.state is BreakerState.OPEN:
            if self._clock() - self._opened_at < self._config.cooldown_s:
                return False
            self._move(BreakerState.HALF_OPEN)
        if self.state is BreakerState.HALF_OPEN:
            if self._probe_in_flight:
                return False
            self._probe_in_flight = True
        return True

    def available(self) -> bool:
        """Like :meth:`allow` but without taking the probe slot (for listing candidates)."""
        if self.state is BreakerState.OPEN:
            return self._clock() - self._opened_at >= self._config.cooldown_s
        return not (self.state is BreakerState.HALF_OPEN and self._probe_in_flight)

    def retry_after_s(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when not open)."""
        if self.state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self._config.cooldown_s - (self._clock() - self._opened_at))

    def record_success(self) -> None:
        """A call succeeded: reset the failure count, close a half-open breaker."""
        self.consecutive_failures = 0
        self._probe_in_flight = False
        if self.state is not BreakerState.CLOSED:
            self._move(BreakerState.CLOSED)

    def record_failure(self) -> None:
        """A call failed: a failed probe re-opens; enough consecutive failures open."""
        self.consecutive_failures += 1
        self._probe_in_flight = False
        if self.state is BreakerState.HALF_OPEN or (
            self.state is BreakerState.CLOSED and self.consecutive_failures >= self._config.failure_threshold
        ):
            self._opened_at = self._clock()
            self._move(BreakerState.OPEN)

    def release_probe(self) -> None:
        """A probe ended without a verdict (cancelled): let another probe through."""
        self._probe_in_flight = False

    def apply_remote(self, state: BreakerState, remaining_s: float) -> None:
        """Adopt a state another worker reached (no transition hook fires, so nothing echoes back).

        Args:
            state: ``OPEN`` (with ``remaining_s`` of cool-down left) or ``CLOSED``.
            remaining_s: Cool-down left on the other worker.
        """
        if state is BreakerState.OPEN:
            self._opened_at = self._clock() - max(0.0, self._config.cooldown_s - remaining_s)
            self.state = BreakerState.OPEN
        elif state is BreakerState.CLOSED:
            self.state = BreakerState.CLOSED
            self.consecutive_failures = 0
        self._probe_in_flight = False

    def _move(self, new: BreakerState) -> None:
        old, self.state = self.state, new
        self._on_transition(self.key, old, new)


class BreakerRegistry:
    """The breakers of every deployment in this process, created on first use."""

    def __init__(
        self,
        config: BreakerConfig,
        clock: Callable[[], float] = time.monotonic,
        on_transition: Transition | None = None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._on_transition: Transition = on_transition or (lambda key, old, new: None)
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(self, key: str) -> CircuitBreaker:
        """The breaker of deployment ``key``."""
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = self._breakers[key] = CircuitBreaker(
                key, self._config, self._clock, self._on_transition
            )
        return breaker

    def apply_remote(self, key: str, state: BreakerState, remaining_s: float) -> None:
        """Adopt another worker's breaker state for deployment ``key``."""
        self.get(key).apply_remote(state, remaining_s)

    def snapshot(self) -> dict[str, CircuitBreaker]:
        """Every breaker created so far, by deployment id."""
        return dict(self._breakers)


def fan_out(*hooks: Transition) -> Transition:
    """One transition hook calling several in order."""

    def call_all(key: str, old: BreakerState, new: BreakerState) -> None:
        for hook in hooks:
            hook(key, old, new)

    return call_all


def reporting_transitions(metrics: Metrics) -> Transition:
    """A transition hook that counts and logs every breaker move."""

    def report(key: str, old: BreakerState, new: BreakerState) -> None:
        metrics.increment(names.BREAKER_TRANSITIONS, deployment=key, from_state=old.value, to_state=new.value)
        log = logger.warning if new is BreakerState.OPEN else logger.info
        log("circuit breaker of %s: %s -> %s", key, old.value, new.value)

    return report
