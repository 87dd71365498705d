"""Signed checkpoints of the audit log: every N entries, every T seconds, copied to an external sink."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from routeiq_core.audit.chain import ChainHead
from routeiq_core.audit.note import Checkpoint, CheckpointSigner, sign_note
from routeiq_core.audit.store import AuditStore, CheckpointSink, StoredCheckpoint

logger = logging.getLogger("routeiq.audit")


class Checkpointer:
    """Signs the head of the log and stores the checkpoint (and copies it to the sink, if any).

    Every process writing to the log runs one: checkpoints from several are all valid (each signs a
    head that existed), and a tick skips writing when another process just checkpointed this size.

    Args:
        store: The audit store.
        signer: Signs checkpoint notes (its key name should be the origin).
        origin: The checkpoint's first line: the log's identity.
        sink: Where a copy of each checkpoint goes (None: only the store).
        every_entries: A checkpoint once the log crosses a multiple of this size.
        interval_s: A checkpoint at least this often, even when idle.
        clock: Unix time.
    """

    def __init__(
        self,
        store: AuditStore,
        signer: CheckpointSigner,
        *,
        origin: str,
        sink: CheckpointSink | None = None,
        every_entries: int = 256,
        interval_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if every_entries < 1 or interval_s <= 0:
            raise ValueError("every_entries must be >= 1 and interval_s > 0")
        self._store = store
        self._signer = signer
        self._origin = origin
        self._sink = sink
        self._every = every_entries
        self.interval_s = interval_s
        self._clock = clock

    @property
    def verifier_key(self) -> str:
        """The vkey verifying this checkpointer's notes."""
        return self._signer.verifier_key

    def due(self, before: int, head: ChainHead) -> bool:
        """Whether an append that grew the log from ``before`` to ``head.size`` crossed a multiple of N."""
        return head.size // self._every > before // self._every

    async def tick(self) -> StoredCheckpoint | None:
        """The periodic checkpoint: written unless another process just checkpointed this size."""
        head = await self._store.head()
        latest = await self._store.latest_checkpoint()
        if (
            latest is not None
            and latest.size == head.size
            and self._clock() - latest.at < self.interval_s / 2
        ):
            return None
        return await self.write(head)

    async def write(self, head: ChainHead) -> StoredCheckpoint:
        """Sign ``head``, store the checkpoint, copy it to the sink (a sink failure is only logged)."""
        text = Checkpoint(origin=self._origin, size=head.size, root=head.root()).text()
        stored = StoredCheckpoint(size=head.size, note=sign_note(text, self._signer), at=self._clock())
        await self._store.add_checkpoint(stored)
        if self._sink is not None:
            try:
                await self._sink.publish(stored.note)
            except Exception:
                logger.exception("audit: the external checkpoint copy failed (size %d)", head.size)
        return stored
