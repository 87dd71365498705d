"""Counting high-volume security events (auth failures, refusals) into periodic summary entries.

A client spraying bad keys must grow neither memory nor the log without bound: a :class:`Tally`
keeps at most ``max_groups`` distinct groups per window (more are counted together as overflow,
without remembering them), each value cut to ``MAX_VALUE_CHARS``, and turns a window into at most
one summary event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from routeiq_core.audit.event import SYSTEM_ACTOR, AuditEvent

MAX_VALUE_CHARS = 128


class Tally:
    """Counts of one kind of event per group (a tuple of ``fields``) over the current window.

    Args:
        action: The action of the summary events (``auth.failure``, ``quota.refusal``, ...).
        fields: What a group is made of (``source_ip``, ``reason``), named in the summary.
        max_groups: Most distinct groups remembered per window.
    """

    def __init__(self, action: str, fields: Sequence[str], *, max_groups: int) -> None:
        if max_groups < 1:
            raise ValueError("max_groups must be at least 1")
        self.action = action
        self._fields = tuple(fields)
        self._max_groups = max_groups
        self._counts: dict[tuple[str, ...], int] = {}
        self._overflow = 0
        self._started: float | None = None

    def __len__(self) -> int:
        return len(self._counts)

    @property
    def total(self) -> int:
        """Events counted in the current window."""
        return sum(self._counts.values()) + self._overflow

    def add(self, values: Sequence[str | None], *, at: float) -> None:
        """Count one event of the group ``values`` (one per field)."""
        group = tuple(("-" if v is None else str(v))[:MAX_VALUE_CHARS] for v in values)
        if len(group) != len(self._fields):
            raise ValueError(f"{self.action}: expected {len(self._fields)} values, got {len(group)}")
        if self._started is None:
            self._started = at
        if group in self._counts:
            self._counts[group] += 1
        elif len(self._counts) < self._max_groups:
            self._counts[group] = 1
        else:
            self._overflow += 1

    def drain(self, *, at: float) -> AuditEvent | None:
        """The summary of the window ending now (None if nothing was counted), and a new window."""
        if self._started is None:
            return None
        groups: list[dict[str, Any]] = [
            {**dict(zip(self._fields, group, strict=True)), "count": count}
            for group, count in sorted(self._counts.items())
        ]
        details: dict[str, Any] = {
            "window_start": self._started,
            "total": self.total,
            "groups": groups,
            "overflow": self._overflow,
        }
        self._counts = {}
        self._overflow = 0
        self._started = None
        return AuditEvent(at=at, action=self.action, actor=SYSTEM_ACTOR, outcome="denied", details=details)
