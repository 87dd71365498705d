"""The metrics port: counters and observations the core emits (retries, fallbacks, breaker moves)."""

from __future__ import annotations

from typing import Protocol


class Metrics(Protocol):
    """Where the core reports what happened; adapters export it (in memory, later OpenTelemetry)."""

    def increment(self, name: str, value: float = 1.0, /, **labels: str) -> None:
        """Add ``value`` to the counter ``name`` with these labels."""
        ...

    def observe(self, name: str, value: float, /, **labels: str) -> None:
        """Record one observation (a latency, a token count) of ``name``."""
        ...
