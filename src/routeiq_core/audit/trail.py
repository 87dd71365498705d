"""The audit trail the rest of the core calls: record an event, count a refusal, read the log.

Recording never fails the caller's operation: a store that is down or slow (``timeout_s``) is
logged at ERROR and counted in :attr:`AuditTrail.failures`, and the admin change stands. High-volume
events (authentication failures by source, quota and budget refusals, permission denials) are
counted in bounded :class:`~routeiq_core.audit.tally.Tally` windows and written as one summary entry
per window each.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import anyio
import msgspec

from routeiq_core.access.audited import Outcome, counting_denials
from routeiq_core.access.principal import Principal
from routeiq_core.access.rbac import require
from routeiq_core.audit.chain import AuditEntry
from routeiq_core.audit.checkpoints import Checkpointer
from routeiq_core.audit.event import AuditEvent, actor_name, event_by
from routeiq_core.audit.note import NoteVerifier
from routeiq_core.audit.store import MAX_PAGE, AuditQuery, AuditStore, StoredCheckpoint
from routeiq_core.audit.tally import Tally
from routeiq_core.audit.verify import VerifyResult, verify_log
from routeiq_core.errors import InvalidRequestError, NotFoundError

logger = logging.getLogger("routeiq.audit")
READ_PERMISSION = "audit.log.read"

# Per request (a ContextVar is per task, not shared state): the client address admin events carry.
_source: ContextVar[str | None] = ContextVar("routeiq_audit_source", default=None)


@contextmanager
def acting_from(address: str | None) -> Iterator[None]:
    """Within the block, events recorded without a ``source_ip`` get ``address``."""
    token = _source.set(address)
    try:
        yield
    finally:
        _source.reset(token)


class AuditTrail:
    """Appends audit events to the store, checkpoints it, and summarises high-volume events.

    Args:
        store: The audit store; None turns the trail off (everything is a no-op, reads are 404).
        checkpoints: Signs and stores checkpoints (needed with a store).
        aggregate_window_s: How often summaries of counted events are written.
        max_groups: Distinct groups each summary remembers per window (the rest count as overflow).
        timeout_s: Longest wait for the store per record.
        clock: Unix time.
    """

    def __init__(
        self,
        store: AuditStore | None,
        checkpoints: Checkpointer | None = None,
        *,
        aggregate_window_s: float = 60.0,
        max_groups: int = 256,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if store is not None and checkpoints is None:
            raise ValueError("an audit trail with a store needs a checkpointer")
        self._store = store
        self._checkpoints = checkpoints
        self.aggregate_window_s = aggregate_window_s
        self._timeout_s = timeout_s
        self._clock = clock
        self.failures = 0
        self.auth_failures = Tally("auth.failure", ("source_ip", "reason"), max_groups=max_groups)
        self.refusals = Tally("quota.refusal", ("reason", "scope", "model_group"), max_groups=max_groups)
        self.denials = Tally("access.denied", ("actor", "action"), max_groups=max_groups)

    @classmethod
    def off(cls) -> AuditTrail:
        """A trail that records nothing."""
        return cls(None)

    @property
    def enabled(self) -> bool:
        """Whether events are recorded."""
        return self._store is not None

    @property
    def checkpoints(self) -> Checkpointer | None:
        """The checkpointer (None when off)."""
        return self._checkpoints

    async def record(self, event: AuditEvent) -> None:
        """Append ``event`` (with the request's source address if it has none); never raises."""
        if event.source_ip is None and (source := _source.get()) is not None:
            event = msgspec.structs.replace(event, source_ip=source)
        await self.record_many([event])

    async def record_many(self, events: Sequence[AuditEvent]) -> None:
        """Append ``events`` in order, atomically; then checkpoint if the log crossed N entries."""
        if self._store is None or self._checkpoints is None or not events:
            return
        try:
            # Shielded: the change this records already happened, even if its client went away.
            with anyio.CancelScope(shield=True), anyio.fail_after(self._timeout_s):
                head = await self._store.append(events)
                if self._checkpoints.due(head.size - len(events), head):
                    await self._checkpoints.write(head)
        except Exception as exc:
            self.failures += 1
            logger.error(
                "audit: could not record %s (%d event(s) lost from the audit log): %r",
                ", ".join(sorted({e.action for e in events})),
                len(events),
                exc,
            )

    async def admin(
        self,
        actor: Principal,
        action: str,
        *,
        target: str | None = None,
        outcome: Outcome = "ok",
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Record an admin action done by ``actor`` now."""
        if self._store is None:
            return
        await self.record(
            event_by(actor, action, at=self._clock(), target=target, outcome=outcome, details=details)
        )

    def auth_failed(self, source_ip: str | None, reason: str | None) -> None:
        """Count a refused authentication (summarised per source and reason)."""
        if self._store is not None:
            self.auth_failures.add((source_ip, reason or "invalid_api_key"), at=self._clock())

    def refused(self, reason: str | None, scope: str | None, model_group: str | None) -> None:
        """Count a quota or budget refusal (summarised per reason, scope and model group)."""
        if self._store is not None:
            self.refusals.add((reason, scope, model_group), at=self._clock())

    def denied(self, actor: Principal, action: str) -> None:
        """Count a known caller refused an admin action (summarised per actor and action)."""
        if self._store is not None:
            self.denials.add((actor_name(actor), action), at=self._clock())

    async def flush(self) -> None:
        """Write the summaries of the window ending now (one entry per kind that counted anything)."""
        now = self._clock()
        summaries = [
            summary
            for tally in (self.auth_failures, self.refusals, self.denials)
            if (summary := tally.drain(at=now)) is not None
        ]
        await self.record_many(summaries)

    async def checkpoint(self) -> StoredCheckpoint | None:
        """The periodic checkpoint (skipped when another process just made it); never raises."""
        if self._checkpoints is None:
            return None
        written = None
        try:
            with anyio.CancelScope(shield=True), anyio.fail_after(self._timeout_s):
                written = await self._checkpoints.tick()
        except Exception as exc:
            self.failures += 1
            logger.error("audit: the periodic checkpoint failed: %r", exc)
        return written

    async def run(self, stop: anyio.Event) -> None:
        """Flush summaries and checkpoint on their intervals until ``stop``, then once more."""
        if self._checkpoints is None:
            return
        await self.checkpoint()
        interval = self._checkpoints.interval_s
        next_flush = anyio.current_time() + self.aggregate_window_s
        next_checkpoint = anyio.current_time() + interval
        while not stop.is_set():
            with anyio.move_on_after(max(0.0, min(next_flush, next_checkpoint) - anyio.current_time())):
                await stop.wait()
            now = anyio.current_time()
            if stop.is_set() or now >= next_flush:
                await self.flush()
                next_flush = now + self.aggregate_window_s
            if stop.is_set() or now >= next_checkpoint:
                await self.checkpoint()
                next_checkpoint = now + interval

    async def read(
        self, actor: Principal, query: AuditQuery
    ) -> tuple[list[AuditEntry], StoredCheckpoint | None]:
        """Entries ``query`` selects and the latest checkpoint (``audit.log.read``)."""
        with counting_denials(self, actor, "audit.read"):
            require(actor, READ_PERMISSION)
        store = self._opened()
        if query.start < 0 or not 1 <= query.limit <= MAX_PAGE:
            raise InvalidRequestError(f"from must be >= 0 and limit between 1 and {MAX_PAGE}.", param="limit")
        return await store.search(query), await store.latest_checkpoint()

    async def latest_checkpoint(self, actor: Principal) -> StoredCheckpoint:
        """The latest signed checkpoint (``audit.log.read``); 404 before the first."""
        with counting_denials(self, actor, "audit.read"):
            require(actor, READ_PERMISSION)
        latest = await self._opened().latest_checkpoint()
        if latest is None:
            raise NotFoundError("No checkpoint has been written yet.", code="no_checkpoint")
        return latest

    async def verify(
        self, actor: Principal, verifiers: Sequence[NoteVerifier], external: Sequence[str] = ()
    ) -> VerifyResult:
        """Verify the whole log as ``routeiq audit verify`` does (``audit.log.read``; 404 when off).

        Args:
            actor: Who asks.
            verifiers: The trusted checkpoint keys (current and rotated).
            external: Signed checkpoint notes kept outside the store.
        """
        with counting_denials(self, actor, "audit.verify"):
            require(actor, READ_PERMISSION)
        return await verify_log(self._opened(), verifiers, external)

    def _opened(self) -> AuditStore:
        if self._store is None:
            raise NotFoundError("The audit log is off (audit.enabled: false).", code="audit_disabled")
        return self._store
