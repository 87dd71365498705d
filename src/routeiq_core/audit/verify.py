"""Offline verification of an audit log: every hash, chain link, sequence number and checkpoint.

One pass over the entries in ``seq`` order recomputes each entry's hash and the Merkle tree; each
checkpoint (stored beside the log, or an external copy) must carry a valid signature of a trusted
key (the current one or a rotated one) and name the root the recomputed tree has at its size. A
checkpoint larger than the log means the tail was cut off. The first failure stops the walk and
names the first entry it concerns: the broken entry, the first missing one, or — for a checkpoint
that does not match — the first entry no earlier valid checkpoint vouched for.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from routeiq_core.audit.canonical import is_canonical
from routeiq_core.audit.chain import GENESIS, AuditEntry, entry_hash
from routeiq_core.audit.merkle import Frontier, leaf_hash
from routeiq_core.audit.note import NoteError, NoteVerifier, open_note, parse_checkpoint, parse_note
from routeiq_core.audit.store import MAX_PAGE, AuditStore

_ENTRY_KEYS = frozenset({"event", "prev", "seq"})


class VerifyResult(msgspec.Struct, kw_only=True):
    """What verification found.

    Attributes:
        ok: Everything verified.
        size: Entries read (up to the failure, when there is one).
        root: The base64 Merkle root of those entries.
        checkpoints: Stored checkpoints verified.
        external_checkpoints: External checkpoint copies verified.
        index: The ``seq`` of the first entry a failure concerns (None when ``ok``, or when a file of
            external checkpoints could not be read at all).
        reason: What failed.
    """

    ok: bool
    size: int
    root: str
    checkpoints: int = 0
    external_checkpoints: int = 0
    index: int | None = None
    reason: str | None = None


class _Target(msgspec.Struct, kw_only=True):
    size: int
    root: bytes | None
    problem: str | None
    label: str
    external: bool


class _Failure(Exception):
    def __init__(self, index: int | None, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason


def _target(
    label: str, note: str, size: int | None, verifiers: Sequence[NoteVerifier], external: bool
) -> _Target:
    try:
        text, _ = parse_note(note)
        checkpoint = parse_checkpoint(text)
    except NoteError as exc:
        if size is None:
            raise _Failure(None, f"{label} is unreadable: {exc}") from None
        return _Target(
            size=size, root=None, problem=f"{label} is unreadable: {exc}", label=label, external=external
        )
    problem = None
    if size is not None and size != checkpoint.size:
        problem = f"{label} is stored as size {size} but its note says {checkpoint.size}"
    else:
        try:
            open_note(note, verifiers)
        except NoteError as exc:
            problem = f"{label} (size {checkpoint.size}): {exc}"
    return _Target(
        size=checkpoint.size, root=checkpoint.root, problem=problem, label=label, external=external
    )


class _Walk:
    """The state of one pass: the next expected entry, the chain, the tree, the pending checkpoints."""

    def __init__(self, targets: Iterable[_Target]) -> None:
        self.targets = sorted(targets, key=lambda t: (t.size, t.problem is None))
        self.next_target = 0
        self.tree = Frontier()
        self.prev = GENESIS
        self.vouched = 0
        self.stored_ok = 0
        self.external_ok = 0

    @property
    def size(self) -> int:
        return self.tree.size

    def feed(self, entry: AuditEntry) -> None:
        seq = self.size
        if entry.seq != seq:
            raise _Failure(seq, f"entry {seq} is missing (the next stored entry is {entry.seq})")
        if entry_hash(entry.body) != entry.entry_hash:
            raise _Failure(seq, f"entry {seq} does not match its stored hash (changed after it was written)")
        body = _decoded(entry.body)
        if body is None:
            raise _Failure(seq, f"entry {seq} is not an audit entry in canonical JSON")
        if type(body["seq"]) is not int or body["seq"] != seq:
            raise _Failure(seq, f"entry {seq} says it is entry {body['seq']!r} (entries moved or reordered)")
        if body["prev"] != self.prev or entry.prev_hash != self.prev:
            raise _Failure(seq, f"entry {seq} does not link to entry {seq - 1} (the chain is broken)")
        self.tree.append(leaf_hash(entry.body))
        self.prev = entry.entry_hash
        self.reached()

    def reached(self) -> None:
        """Check the checkpoints of the size just reached."""
        while self.next_target < len(self.targets) and self.targets[self.next_target].size <= self.size:
            target = self.targets[self.next_target]
            if target.problem is not None:
                raise _Failure(self.vouched, target.problem)
            if target.root != self.tree.root():
                raise _Failure(
                    self.vouched,
                    f"{target.label} (size {target.size}) signed a different root than the log has: "
                    f"entries {self.vouched}..{target.size - 1} were changed after it was written",
                )
            self.vouched = target.size
            if target.external:
                self.external_ok += 1
            else:
                self.stored_ok += 1
            self.next_target += 1

    def finish(self) -> None:
        if self.next_target < len(self.targets):
            target = self.targets[self.next_target]
            raise _Failure(
                self.size,
                f"the log ends after {self.size} entries but {target.label} covers {target.size}: "
                "entries were cut off the end",
            )

    def result(self, failure: _Failure | None = None) -> VerifyResult:
        return VerifyResult(
            ok=failure is None,
            size=self.size,
            root=base64.b64encode(self.tree.root()).decode(),
            checkpoints=self.stored_ok,
            external_checkpoints=self.external_ok,
            index=None if failure is None else failure.index,
            reason=None if failure is None else failure.reason,
        )


def _decoded(body: bytes) -> dict[str, Any] | None:
    if not is_canonical(body):
        return None
    value = msgspec.json.decode(body)
    if not isinstance(value, dict) or set(value) != _ENTRY_KEYS or not isinstance(value["event"], dict):
        return None
    return value


async def verify_log(
    store: AuditStore,
    verifiers: Sequence[NoteVerifier],
    external: Sequence[str] = (),
    *,
    page: int = MAX_PAGE,
) -> VerifyResult:
    """Verify the whole log in ``store`` against its checkpoints and the ``external`` notes.

    Args:
        store: Where the log is.
        verifiers: The trusted keys (current and rotated).
        external: Signed checkpoint notes kept outside the store.
        page: Entries read per query.
    """
    walk = _Walk(())
    try:
        targets = [
            _target(f"stored checkpoint #{c.id}", c.note, c.size, verifiers, False)
            for c in await _all_checkpoints(store)
        ]
        targets += [
            _target(f"external checkpoint {i + 1}", note, None, verifiers, True)
            for i, note in enumerate(external)
        ]
        walk = _Walk(targets)
        walk.reached()
        start = 0
        while batch := await store.entries(start, page):
            for entry in batch:
                walk.feed(entry)
            start = batch[-1].seq + 1
        walk.finish()
    except _Failure as failure:
        return walk.result(failure)
    return walk.result()


async def _all_checkpoints(store: AuditStore) -> list[Any]:
    found: list[Any] = []
    seen: set[tuple[int, str]] = set()
    after = 0
    while batch := await store.checkpoints(after_id=after, limit=MAX_PAGE):
        for checkpoint in batch:
            if (checkpoint.size, checkpoint.note) not in seen:  # idle ticks repeat the same note
                seen.add((checkpoint.size, checkpoint.note))
                found.append(checkpoint)
        after = batch[-1].id
    return found
