"""Quotas: the ``QuotaStore`` port and the values it trades in (items, reservations, refusals).

A request is checked against every limit that applies to it (its key, its team, its model group,
global) at once: the store either reserves the estimated amounts on *all* counters or on *none* and
names the limit that refused. After the call, :meth:`QuotaStore.settle` replaces the estimate with
the actual usage. The counting algorithm and its guarantee are described in
:mod:`routeiq_core.access.quota_window`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

import msgspec

from routeiq_core.access.quota_limits import Amounts, Metric, Window

Scope = Literal["key", "team", "model_group", "global"]


def scope_key(scope: Scope, scope_id: str) -> str:
    """The name of a scope's counters: ``key:key_ab12``, ``team:t1``, ``global:*``."""
    return f"{scope}:{scope_id}"


class QuotaItem(msgspec.Struct, frozen=True, kw_only=True):
    """One limit a request is checked against, and how much of it the request needs.

    ``limit`` and ``amount`` are integers in store units (spend in nano price units).
    """

    scope: Scope
    scope_id: str
    metric: Metric
    window: Window
    limit: int
    amount: int

    @property
    def scope_key(self) -> str:
        """See :func:`scope_key`."""
        return scope_key(self.scope, self.scope_id)

    @property
    def counter_key(self) -> str:
        """The counter this item reserves on: ``<scope>:<id>:<metric>:<window>``."""
        return f"{self.scope_key}:{self.metric}:{self.window}"


class ReservedItem(msgspec.Struct, frozen=True, kw_only=True):
    """An item reserved, with the bucket that holds its amount (settlement adjusts that bucket)."""

    item: QuotaItem
    bucket: int


class Reservation(msgspec.Struct, frozen=True, kw_only=True):
    """Amounts held on every counter of a request until it is settled."""

    id: str
    items: tuple[ReservedItem, ...]


class Refusal(msgspec.Struct, frozen=True, kw_only=True):
    """Nothing was reserved: ``item`` would exceed its limit.

    Attributes:
        item: The limit that refused (when several did, the one that frees up last).
        current: Usage counted on that counter, in store units.
        retry_after_s: Seconds until the request would fit, if nothing else is reserved meanwhile.
    """

    item: QuotaItem
    current: int
    retry_after_s: float


class QuotaStore(Protocol):
    """Counters shared by every worker that reserves against them (memory: one process; Redis: all).

    ``now`` is unix time; workers sharing a store must keep their clocks in sync (NTP) to well
    within one bucket. Adapters raise :class:`~routeiq_core.access.errors.QuotaStoreError` (or
    ``OSError``/``TimeoutError``) when they cannot answer, never a driver's own exception type.
    """

    async def reserve(self, items: Sequence[QuotaItem], now: float) -> Reservation | Refusal:
        """Reserve every item's amount, or none of them if any would exceed its limit (atomic)."""
        ...

    async def settle(self, reservation: Reservation, actual: Amounts, now: float) -> None:
        """Replace the reserved amounts by ``actual``.

        A second settle of the same reservation, or one after it expired, does nothing.
        """
        ...

    async def usage(self, scope_key: str, window: Window, now: float) -> Mapping[Metric, int]:
        """Amounts counted in ``window`` for a scope, by metric (only metrics some limit counts)."""
        ...

    async def ping(self) -> None:
        """Raise if the store cannot be reached."""
        ...
