"""``/admin/spend/daily`` (spend per UTC day) and ``/admin/spend/burndown`` (a budget's window).

Both total the spend ledger one period at a time through the same report ``/admin/spend`` answers,
confined the same way (:func:`spend_filter_for`): an admin sees every key and team, anyone else its
own team (or key). The ledger counts whole hours, so days and windows are whole hours too.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import Any, Literal

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from routeiq_core.access import Budget, KeyService, Principal, TeamService, require
from routeiq_core.access.quota_limits import WINDOW_SPECS
from routeiq_core.access.spend import SpendFilter, SpendLedger, SpendTotals, spend_filter_for
from routeiq_core.errors import InvalidRequestError

DAY_S = 86_400
HOUR_S = 3_600
MAX_DAYS = 92
BURNDOWN_POINTS = 30
"""A budget window is drawn in at most this many steps (a month: 30 days; a day: 24 hours)."""


class SpendPoint(msgspec.Struct, kw_only=True):
    """Spend in ``[start, end)`` (unix seconds), and the running total of the series up to ``end``."""

    start: float
    end: float
    requests: int
    cost: float
    prompt_tokens: int
    completion_tokens: int
    cumulative_cost: float


class DailySpend(msgspec.Struct, kw_only=True):
    """Spend per UTC day, oldest first, the last day being today."""

    filter: SpendFilter
    days: list[SpendPoint]


class Burndown(msgspec.Struct, kw_only=True):
    """A key's or team's budget over its current window: what was spent, step by step."""

    kind: Literal["key", "team"]
    id: str
    budget: Budget
    window_start: float
    window_end: float
    spent: float
    remaining: float
    points: list[SpendPoint]


async def spend_series(ledger: SpendLedger, scope: SpendFilter, edges: list[float]) -> list[SpendPoint]:
    """The spend of ``scope`` between consecutive ``edges`` (hour-aligned unix times), in order."""
    points: list[SpendPoint] = []
    running = 0.0
    for start, end in itertools.pairwise(edges):
        # The ledger's bounds select whole hours, inclusively: the last second before ``end``.
        bounded = msgspec.structs.replace(scope, since=start, until=end - 1)
        total: SpendTotals = (await ledger.report(bounded)).total
        running += total.cost
        points.append(
            SpendPoint(
                start=start,
                end=end,
                requests=total.requests,
                cost=total.cost,
                prompt_tokens=total.prompt_tokens,
                completion_tokens=total.completion_tokens,
                cumulative_cost=running,
            )
        )
    return points


@get("/admin/spend/daily", summary="Spend per UTC day", tags=["admin"])
async def daily_spend(
    principal: NamedDependency[Principal],
    spend_ledger: NamedDependency[Any],
    days: FromQuery[int] = 30,
    key_id: FromQuery[str | None] = None,
    team: FromQuery[str | None] = None,
    model_group: FromQuery[str | None] = None,
) -> DailySpend:
    """The last ``days`` (1-92) UTC days, today included, filtered like ``/admin/spend``."""
    require(principal, "spend.read")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidRequestError(f"days must be from 1 to {MAX_DAYS}, got {days}.", param="days")
    scope = spend_filter_for(principal, key_id=key_id, team=team, model_group=model_group)
    tomorrow = (math.floor(time.time() / DAY_S) + 1) * DAY_S
    edges = [float(tomorrow - (days - i) * DAY_S) for i in range(days + 1)]
    return DailySpend(filter=scope, days=await spend_series(spend_ledger, scope, edges))


def window_edges(window_s: int, now: float) -> list[float]:
    """Hour-aligned edges covering the sliding window ending now, in at most ``BURNDOWN_POINTS`` steps."""
    step = max(HOUR_S, math.ceil(window_s / BURNDOWN_POINTS / HOUR_S) * HOUR_S)
    end = (math.floor(now / HOUR_S) + 1) * HOUR_S
    steps = max(1, math.ceil(window_s / step))
    return [float(end - (steps - i) * step) for i in range(steps + 1)]


@get("/admin/spend/burndown", summary="A key's or team's budget over its window", tags=["admin"])
async def budget_burndown(
    principal: NamedDependency[Principal],
    spend_ledger: NamedDependency[Any],
    key_service: NamedDependency[KeyService],
    team_service: NamedDependency[TeamService],
    key_id: FromQuery[str | None] = None,
    team: FromQuery[str | None] = None,
) -> Burndown:
    """Give ``key_id`` or ``team`` (one): its budget, spend so far in the window, and the steps.

    404 when the key or team is unknown or out of the caller's reach; 400 when it has no budget.
    """
    require(principal, "spend.read")
    if (key_id is None) == (team is None):
        raise InvalidRequestError("Give exactly one of key_id and team.", param="key_id")
    if key_id is not None:
        record: Any = await key_service.get(principal, key_id)
        kind: Literal["key", "team"] = "key"
        subject = key_id
        scope = spend_filter_for(principal, key_id=key_id)
    else:
        assert team is not None
        record = await team_service.get(principal, team)
        kind, subject = "team", team
        scope = spend_filter_for(principal, team=team)
    budget: Budget | None = record.budget
    if budget is None:
        raise InvalidRequestError(f"The {kind} {subject!r} has no budget.", code="no_budget")
    edges = window_edges(WINDOW_SPECS[budget.window].seconds, time.time())
    points = await spend_series(spend_ledger, scope, edges)
    spent = points[-1].cumulative_cost if points else 0.0
    return Burndown(
        kind=kind,
        id=subject,
        budget=budget,
        window_start=edges[0],
        window_end=edges[-1],
        spent=spent,
        remaining=max(0.0, budget.max_spend - spent),
        points=points,
    )


spend_routes = (daily_spend, budget_burndown)
