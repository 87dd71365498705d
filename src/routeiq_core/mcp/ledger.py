"""What a tool call takes and leaves: its quota reservation, spend record, metric and request-log line."""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
import msgspec

from routeiq_core import metric_names as names
from routeiq_core.access.errors import QuotaExceededError
from routeiq_core.access.principal import Principal
from routeiq_core.access.quota_service import QuotaService, QuotaTicket
from routeiq_core.access.spend import SpendLedger, SpendRecord
from routeiq_core.audit.trail import AuditTrail
from routeiq_core.mcp.upstream import UpstreamReply
from routeiq_core.metrics import Metrics
from routeiq_core.operations import TOOL_CALL
from routeiq_core.request_log import RequestLog, RequestRecord, outcome_of
from routeiq_core.surfaces import MCP_SURFACE

__all__ = ["CallLedger", "ToolCallFacts"]


class ToolCallFacts(msgspec.Struct, frozen=True, kw_only=True):
    """One admitted tool call: who, which tool, when, and what it reserved."""

    principal: Principal
    server: str
    tool: str
    ticket: QuotaTicket | None = None
    request_id: str | None = None
    source_ip: str | None = None
    at: float = 0.0
    started: float = 0.0

    @property
    def group(self) -> str:
        """The model group its limits and spend are kept under."""
        return f"mcp:{self.server}"


class CallLedger:
    """Reserves a tool call's request against the caller's limits, and records how it ended.

    Args:
        quota: Reserves one request (no tokens) under ``mcp:{server}``.
        metrics: ``routeiq_mcp_calls`` by server and outcome.
        spend: One record per answered call (no tokens, no cost); None records nothing.
        request_log: One record per admitted call (surface ``mcp``, operation ``tool_call``, model
            ``server/tool``); None records nothing.
        audit: Counts quota refusals; None counts nothing.
        clock: Unix time.
    """

    def __init__(
        self,
        *,
        quota: QuotaService,
        metrics: Metrics,
        spend: SpendLedger | None = None,
        request_log: RequestLog | None = None,
        audit: AuditTrail | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._quota = quota
        self._metrics = metrics
        self._spend = spend
        self._log = request_log
        self._audit = audit
        self._clock = clock

    async def admit(self, facts: ToolCallFacts) -> ToolCallFacts:
        """Reserve the call (429 over a limit, 503 when limits cannot be checked under fail-closed)."""
        try:
            ticket = await self._quota.reserve(
                facts.principal, model_group=facts.group, prompt_tokens=0, max_tokens=0
            )
        except QuotaExceededError as exc:
            if self._audit is not None:
                self._audit.refused(exc.code, exc.scope, facts.group)
            raise
        return msgspec.structs.replace(facts, ticket=ticket, at=self._clock(), started=time.perf_counter())

    async def ended(
        self, facts: ToolCallFacts, reply: UpstreamReply | None, error: BaseException | None
    ) -> None:
        """Settle or release the reservation; count, record and log the call (never raises)."""
        principal, ticket = facts.principal, facts.ticket
        with anyio.CancelScope(shield=True):
            if reply is None:
                if ticket is not None:
                    await self._quota.release(ticket)
                outcome = "upstream_error"
            else:
                if ticket is not None:
                    await self._quota.settle(ticket, prompt_tokens=0, completion_tokens=0, cost=0.0)
                outcome = "error" if reply.error is not None else "ok"
                if self._spend is not None:
                    await self._spend.record(
                        SpendRecord(
                            at=self._clock(),
                            model_group=facts.group,
                            cost=0.0,
                            key_id=principal.key_id,
                            team=principal.team,
                            deployment_id=facts.server,
                        )
                    )
            self._metrics.increment(names.MCP_CALLS, server=facts.server, outcome=outcome)
            if self._log is not None:
                await self._log.record(self._record(facts, error))

    def _record(self, facts: ToolCallFacts, error: BaseException | None) -> RequestRecord:
        status, error_type = outcome_of(error)
        return RequestRecord(
            at=facts.at,
            request_id=facts.request_id,
            surface=MCP_SURFACE,
            operation=TOOL_CALL,
            status=status,
            error_type=error_type,
            key_id=facts.principal.key_id,
            team=facts.principal.team,
            model=f"{facts.server}/{facts.tool}",
            model_group=facts.group,
            deployment_id=facts.server,
            attempts=1,
            latency_ms=(time.perf_counter() - facts.started) * 1000,
            source_ip=facts.source_ip,
        )
