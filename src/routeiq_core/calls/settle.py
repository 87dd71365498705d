"""Settling a call: what it used and cost, once, into the quota store, the spend ledger and metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from routeiq_core import metric_names as names
from routeiq_core.access.quota_service import QuotaService, QuotaTicket
from routeiq_core.access.spend import SpendLedger, SpendRecord
from routeiq_core.context import CallContext
from routeiq_core.media_prices import media_units
from routeiq_core.metrics import Metrics, RouteCounters
from routeiq_core.providers import Usage

logger = logging.getLogger("routeiq.access")

_BYTES_PER_TOKEN = 4
"""About four bytes of JSON a token: the estimate for an answer whose upstream reported no usage."""


def account(ctx: CallContext, usage: Usage | None, *, produced: int, body: bytes | None = None) -> None:
    """Set the call's usage and its cost (the one place a call's cost is computed).

    When the upstream reported no usage (a stream cut before its last chunk, an upstream that does
    not report it), the usage is estimated: the prompt estimate, and ``produced`` completion tokens
    (one per streamed event, or the answer's bytes over four); ``ctx.usage_estimated`` says so.
    A deployment with media prices adds the price of the call's images, characters or seconds of
    audio (:mod:`routeiq_core.media_prices`; ``body``: the complete answer, which may report them).
    """
    if usage is None:
        usage = Usage(
            prompt_tokens=ctx.estimated_prompt_tokens,
            completion_tokens=produced,
            total_tokens=ctx.estimated_prompt_tokens + produced,
        )
        ctx.usage_estimated = True
    ctx.usage = usage
    deployment = ctx.deployment
    if deployment is None:
        ctx.cost = 0.0
        return
    units = media_units(ctx.operation, ctx.payload, body) if deployment.media is not None else None
    ctx.cost = deployment.cost(usage.prompt_tokens, usage.completion_tokens, units)


def body_tokens(body: bytes) -> int:
    """The completion-token estimate of a complete answer without usage."""
    return len(body) // _BYTES_PER_TOKEN


class Settlement:
    """Replaces a call's reservation by what it used and records its spend.

    Args:
        quota: Where the reservation is settled or released.
        spend: The spend ledger.
        metrics: Where spend (``routeiq_spend``) and estimated usage are counted.
        clock: Unix time of the spend records.
    """

    def __init__(
        self,
        *,
        quota: QuotaService,
        spend: SpendLedger,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._quota = quota
        self._spend = spend
        self._metrics = metrics
        self._counters = RouteCounters(metrics, names.SPEND, names.USAGE_ESTIMATED)
        self._clock = clock

    async def settle(self, ctx: CallContext, ticket: QuotaTicket) -> None:
        """Settle the call (never raises: the answer may already be with the client).

        A call no upstream answered (refused, failed, answered by a plugin) gives back its whole
        reservation. One that was served settles its usage and records its spend.
        """
        try:
            await self._settle(ctx, ticket)
        except Exception:  # accounting must never fail a response that was already sent
            logger.exception("settling a request failed")

    async def _settle(self, ctx: CallContext, ticket: QuotaTicket) -> None:
        route, usage = ctx.route, ctx.usage
        if route is None or usage is None:
            await self._quota.release(ticket)
            return
        await self._quota.settle(
            ticket,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost=ctx.cost,
        )
        spend, estimated = self._counters(route.model_group, route.deployment_id)
        spend(ctx.cost)
        if ctx.usage_estimated:
            estimated(1.0)
        principal = ctx.principal
        await self._spend.record(
            SpendRecord(
                at=self._clock(),
                model_group=route.model_group,
                cost=ctx.cost,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                key_id=principal.key_id,
                team=principal.team,
                deployment_id=route.deployment_id,
            )
        )
