"""Canonical JSON, the hash chain, and offline verification of a log and its checkpoints."""

from __future__ import annotations

import functools
import hashlib
import itertools

import anyio
import msgspec
import pytest

from routeiq_adapters.audit import Ed25519CheckpointSigner, InMemoryAuditStore
from routeiq_core.audit import (
    GENESIS,
    AuditEntry,
    AuditEvent,
    ChainHead,
    Checkpoint,
    StoredCheckpoint,
    canonical_json,
    entry_bytes,
    extend,
    is_canonical,
    leaf_hash,
    root_of,
    sign_note,
    verify_log,
)

ORIGIN = "example.com/audit"


def event(i: int, **details: object) -> AuditEvent:
    return AuditEvent(at=1000.0 + i, action="key.issue", actor="master", target=f"key_{i}", details=details)


def test_canonical_json_is_sorted_compact_utf8() -> None:
    value = {"b": 1, "a": {"z": 1.5, "y": [True, None]}, "c": 'é\n"\\\x01\u2028', "d": 2.0, "e": 1e16}
    data = canonical_json(value)
    assert data == (
        b'{"a":{"y":[true,null],"z":1.5},"b":1,"c":"\xc3\xa9\\n\\"\\\\\\u0001\xe2\x80\xa8","d":2.0,"e":1e16}'
    )
    assert is_canonical(data)
    assert not is_canonical(b'{"b":1, "a":2}')
    assert not is_canonical(b'{"b":1,"a":2}')
    assert not is_canonical(b'{"a":"\\u00e9"}')  # escaped where it need not be
    assert not is_canonical(b"{not json")
    assert canonical_json(float("nan")) == b"null"


def test_entries_chain_from_genesis_and_the_head_keeps_the_tree() -> None:
    events = [event(i, n=i) for i in range(5)]
    entries, head = extend(ChainHead(), events[:2])
    more, head = extend(head, events[2:])
    entries += more
    assert [e.seq for e in entries] == [0, 1, 2, 3, 4]
    assert entries[0].prev_hash == GENESIS
    for previous, entry in itertools.pairwise(entries):
        assert entry.prev_hash == previous.entry_hash
    for entry in entries:
        assert entry.entry_hash == hashlib.sha256(entry.body).hexdigest()
        assert is_canonical(entry.body)
        assert entry.event() == events[entry.seq]
    assert entries[3].body == entry_bytes(3, entries[2].entry_hash, events[3])
    assert msgspec.json.decode(entries[1].body)["seq"] == 1
    assert head.size == 5
    assert head.last_hash == entries[-1].entry_hash
    assert head.root() == root_of([leaf_hash(e.body) for e in entries])


class ListStore(InMemoryAuditStore):
    """The in-memory store with its rows laid bare, to tamper with."""

    @property
    def rows(self) -> list[AuditEntry]:
        return self._entries

    @property
    def stored(self) -> list[StoredCheckpoint]:
        return self._checkpoints


async def _log(size: int, signer: Ed25519CheckpointSigner, checkpoint_sizes: tuple[int, ...]) -> ListStore:
    store = ListStore()
    for i in range(size):
        head = await store.append([event(i)])
        if head.size in checkpoint_sizes:
            note = sign_note(Checkpoint(origin=ORIGIN, size=head.size, root=head.root()).text(), signer)
            await store.add_checkpoint(StoredCheckpoint(size=head.size, note=note, at=0.0))
    return store


def _run(
    store: ListStore, signer: Ed25519CheckpointSigner, external: tuple[str, ...] = ()
) -> tuple[bool, int | None]:
    result = anyio.run(verify_log, store, [signer.verifier], external)
    return result.ok, result.index


def test_an_untouched_log_verifies() -> None:
    signer = Ed25519CheckpointSigner.generate(ORIGIN)
    store = anyio.run(_log, 20, signer, (5, 10, 20))
    result = anyio.run(functools.partial(verify_log, store, [signer.verifier], page=3))
    assert (result.ok, result.size, result.checkpoints) == (True, 20, 3)


def test_each_kind_of_tampering_is_found_at_its_index() -> None:
    signer = Ed25519CheckpointSigner.generate(ORIGIN)

    def tampered(change: object) -> tuple[bool, int | None]:
        store = anyio.run(_log, 12, signer, (4, 12))
        change(store)  # type: ignore[operator]
        return _run(store, signer)

    def flip(store: ListStore) -> None:
        row = store.rows[7]
        body = bytearray(row.body)
        body[40] ^= 0x01
        store.rows[7] = msgspec.structs.replace(row, body=bytes(body))

    def delete(store: ListStore) -> None:
        del store.rows[5]

    def reorder(store: ListStore) -> None:  # swap two entries, each keeping its seq column
        a, b = store.rows[2], store.rows[9]
        store.rows[2] = msgspec.structs.replace(b, seq=2)
        store.rows[9] = msgspec.structs.replace(a, seq=9)

    def relink(store: ListStore) -> None:
        store.rows[3] = msgspec.structs.replace(store.rows[3], prev_hash=GENESIS)

    assert tampered(flip) == (False, 7)
    assert tampered(delete) == (False, 5)
    assert tampered(reorder) == (False, 2)
    assert tampered(relink) == (False, 3)


def test_a_rewritten_log_fails_at_the_first_entry_its_checkpoint_vouches_for() -> None:
    signer = Ed25519CheckpointSigner.generate(ORIGIN)
    store = anyio.run(_log, 12, signer, (4, 12))
    forged, _ = extend(ChainHead(), [event(i, forged=True) for i in range(12)])
    store.rows[:] = forged  # every hash and link recomputed: only the signed checkpoints can tell
    assert _run(store, signer) == (False, 0)
    store = anyio.run(_log, 12, signer, (4, 12))
    prefix = store.rows[:4]
    rest, _ = extend(
        ChainHead(size=4, last_hash=prefix[-1].entry_hash, frontier=_frontier(prefix)), [event(99)] * 8
    )
    store.rows[:] = [*prefix, *rest]
    ok, index = _run(store, signer)
    assert (ok, index) == (False, 4)


def _frontier(entries: list[AuditEntry]) -> tuple[str, ...]:
    _, head = extend(ChainHead(), [e.event() for e in entries])
    return head.frontier


def test_a_truncated_tail_fails_against_a_checkpoint_that_covered_it() -> None:
    signer = Ed25519CheckpointSigner.generate(ORIGIN)
    store = anyio.run(_log, 12, signer, (4, 12))
    external = (store.stored[-1].note,)
    del store.rows[9:]
    del store.stored[-1]  # the attacker drops the stored checkpoint too; the external copy remains
    assert _run(store, signer) == (True, None)  # undetectable without a copy
    assert _run(store, signer, external) == (False, 9)


def test_checkpoints_signed_by_unknown_keys_or_forged_fail() -> None:
    signer, other = Ed25519CheckpointSigner.generate(ORIGIN), Ed25519CheckpointSigner.generate(ORIGIN)
    store = anyio.run(_log, 6, signer, (2, 6))
    assert _run(store, other) == (False, 0)
    store.stored[1] = msgspec.structs.replace(
        store.stored[1], note=store.stored[1].note.replace("\n6\n", "\n5\n")
    )
    ok, index = _run(store, signer)
    assert (ok, index) == (False, 2)
    result = anyio.run(verify_log, store, [signer.verifier], ("not a note\n",))
    assert (result.ok, result.index) == (False, None)


@pytest.mark.parametrize("size", [0, 1])
def test_tiny_logs_verify(size: int) -> None:
    signer = Ed25519CheckpointSigner.generate(ORIGIN)
    store = anyio.run(_log, size, signer, ())
    head = anyio.run(store.head)
    note = sign_note(Checkpoint(origin=ORIGIN, size=size, root=head.root()).text(), signer)
    assert _run(store, signer, (note,)) == (True, None)
