"""The hash chain: entries in order, each carrying the previous entry's hash, under a Merkle tree.

An entry is the canonical JSON (see :mod:`routeiq_core.audit.canonical`) of
``{"event": {...}, "prev": <hex>, "seq": <n>}``: ``seq`` counts from 0 with no gap, ``prev`` is the
previous entry's hash (64 zeros for the first). Its hash is ``SHA-256(entry bytes)`` in hex, and its
Merkle leaf is ``SHA-256(0x00 || entry bytes)``, so leaf ``i`` of the tree is entry ``seq = i``.

Writers hold the :class:`ChainHead` (size, last hash, Merkle frontier) and extend it under their
store's one-writer lock, so concurrent writers never fork the chain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import msgspec

from routeiq_core.audit.canonical import canonical_json
from routeiq_core.audit.event import AuditEvent
from routeiq_core.audit.merkle import Frontier, leaf_hash

GENESIS = "0" * 64
"""The ``prev`` of the first entry."""


class EntryBody(msgspec.Struct, frozen=True, kw_only=True):
    """What an entry's bytes encode."""

    seq: int
    prev: str
    event: AuditEvent


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One stored entry: its bytes, their hash, and the columns stores index it by.

    ``at``, ``action`` and ``actor`` repeat the event's, for filtering; verification ignores them and
    reads only ``seq``, ``prev_hash``, ``entry_hash`` and ``body``.
    """

    seq: int
    prev_hash: str
    entry_hash: str
    body: bytes
    at: float = 0.0
    action: str = ""
    actor: str = ""

    def event(self) -> AuditEvent:
        """The event the body holds (raises ``msgspec.DecodeError`` if the body was damaged)."""
        return msgspec.json.decode(self.body, type=EntryBody).event


class ChainHead(msgspec.Struct, frozen=True, kw_only=True):
    """Where the log ends: its size, the last entry's hash, and the Merkle frontier (hex digests)."""

    size: int = 0
    last_hash: str = GENESIS
    frontier: tuple[str, ...] = ()

    def tree(self) -> Frontier:
        """The Merkle frontier, to extend or take the root of."""
        return Frontier(self.size, [bytes.fromhex(h) for h in self.frontier])

    def root(self) -> bytes:
        """The Merkle tree hash of the log at this size."""
        return self.tree().root()


def entry_bytes(seq: int, prev: str, event: AuditEvent) -> bytes:
    """The canonical bytes of entry ``seq``."""
    return canonical_json(EntryBody(seq=seq, prev=prev, event=event))


def entry_hash(body: bytes) -> str:
    """The hash of an entry's bytes (hex)."""
    return hashlib.sha256(body).hexdigest()


def extend(head: ChainHead, events: Sequence[AuditEvent]) -> tuple[list[AuditEntry], ChainHead]:
    """The entries of ``events`` appended after ``head``, and the head after them."""
    tree = head.tree()
    prev = head.last_hash
    entries = []
    for event in events:
        seq = tree.size
        body = entry_bytes(seq, prev, event)
        digest = entry_hash(body)
        entries.append(
            AuditEntry(
                seq=seq,
                prev_hash=prev,
                entry_hash=digest,
                body=body,
                at=event.at,
                action=event.action,
                actor=event.actor,
            )
        )
        tree.append(leaf_hash(body))
        prev = digest
    return entries, ChainHead(size=tree.size, last_hash=prev, frontier=tuple(h.hex() for h in tree.hashes))
