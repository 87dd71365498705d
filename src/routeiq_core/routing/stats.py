"""Live per-deployment statistics fed by the gateway's real outcomes.

Strategies read them (least-busy, latency-based, usage-based), the admin API shows them. All
bookkeeping is bounded: a fixed ring of one-second buckets per deployment, nothing that grows with
traffic.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import msgspec


class DeploymentSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """What is known about one deployment right now."""

    in_flight: int = 0
    latency_ewma_s: float | None = None
    error_rate: float = 0.0
    requests_last_minute: int = 0
    tokens_last_minute: int = 0
    total_requests: int = 0
    total_failures: int = 0


class _Track:
    __slots__ = (
        "bucket_requests",
        "bucket_second",
        "bucket_tokens",
        "error_ewma",
        "failures",
        "in_flight",
        "latency",
        "requests",
    )

    def __init__(self, window: int) -> None:
        self.in_flight = 0
        self.latency: float | None = None
        self.error_ewma = 0.0
        self.requests = 0
        self.failures = 0
        self.bucket_second = [-1] * window
        self.bucket_requests = [0] * window
        self.bucket_tokens = [0] * window


class DeploymentStats:
    """In-flight counts, latency and error EWMAs, and one-minute request/token windows per deployment.

    Args:
        clock: Monotonic seconds.
        alpha: EWMA weight of the newest observation.
        window_s: Length of the sliding request/token window.
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, alpha: float = 0.2, window_s: int = 60
    ) -> None:
        self._clock = clock
        self._alpha = alpha
        self._window = window_s
        self._tracks: dict[str, _Track] = {}

    def _track(self, deployment_id: str) -> _Track:
        track = self._tracks.get(deployment_id)
        if track is None:
            track = self._tracks[deployment_id] = _Track(self._window)
        return track

    def started(self, deployment_id: str) -> None:
        """A call to the deployment began (counts toward in-flight until :meth:`ended`)."""
        track = self._track(deployment_id)
        track.in_flight += 1
        self._bucket(track, requests=1)

    def observe(self, deployment_id: str, latency_s: float, ok: bool) -> None:
        """Fold one outcome in: latency (to the answer, or to the first stream frame) and success."""
        track = self._track(deployment_id)
        track.requests += 1
        if not ok:
            track.failures += 1
        a = self._alpha
        track.error_ewma = (1 - a) * track.error_ewma + a * (0.0 if ok else 1.0)
        if ok:
            track.latency = latency_s if track.latency is None else (1 - a) * track.latency + a * latency_s

    def add_tokens(self, deployment_id: str, tokens: int) -> None:
        """Count tokens the deployment served (for TPM headroom)."""
        self._bucket(self._track(deployment_id), tokens=tokens)

    def ended(self, deployment_id: str) -> None:
        """A call ended (answer sent, stream finished, failure or cancellation)."""
        track = self._track(deployment_id)
        track.in_flight = max(0, track.in_flight - 1)

    def in_flight(self, deployment_id: str) -> int:
        """Calls in progress now."""
        track = self._tracks.get(deployment_id)
        return track.in_flight if track else 0

    def latency(self, deployment_id: str) -> float | None:
        """Latency EWMA in seconds, None before the first success."""
        track = self._tracks.get(deployment_id)
        return track.latency if track else None

    def usage_last_minute(self, deployment_id: str) -> tuple[int, int]:
        """Requests and tokens in the sliding window."""
        track = self._tracks.get(deployment_id)
        if track is None:
            return 0, 0
        now = math.floor(self._clock())
        requests = tokens = 0
        for i in range(self._window):
            if now - track.bucket_second[i] < self._window:
                requests += track.bucket_requests[i]
                tokens += track.bucket_tokens[i]
        return requests, tokens

    def snapshot(self, deployment_id: str) -> DeploymentSnapshot:
        """Everything known about one deployment."""
        track = self._tracks.get(deployment_id)
        if track is None:
            return DeploymentSnapshot()
        requests, tokens = self.usage_last_minute(deployment_id)
        return DeploymentSnapshot(
            in_flight=track.in_flight,
            latency_ewma_s=track.latency,
            error_rate=round(track.error_ewma, 4),
            requests_last_minute=requests,
            tokens_last_minute=tokens,
            total_requests=track.requests,
            total_failures=track.failures,
        )

    def _bucket(self, track: _Track, requests: int = 0, tokens: int = 0) -> None:
        second = math.floor(self._clock())
        i = second % self._window
        if track.bucket_second[i] != second:
            track.bucket_second[i] = second
            track.bucket_requests[i] = 0
            track.bucket_tokens[i] = 0
        track.bucket_requests[i] += requests
        track.bucket_tokens[i] += tokens
