"""The RFC 6962 Merkle tree hash (SHA-256) over audit entries, and consistency proofs.

``MTH({}) = SHA-256("")``; a leaf is ``SHA-256(0x00 || entry)``; an inner node is
``SHA-256(0x01 || left || right)``, where the left subtree holds the largest power of two of leaves
smaller than the tree. A consistency proof shows that a tree of size ``m`` is a prefix of a tree of
size ``n``: nothing in the first ``m`` entries changed (RFC 6962 section 2.1.2; verified as in
RFC 9162 section 2.1.4.2).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()
HASH_SIZE = 32


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The roots of the perfect subtrees a tree of ``size`` leaves decomposes into, left to right.

    Enough to append leaves and compute the root at every size in ``O(log n)`` memory, which is how
    the writer keeps the head of the log and the verifier walks it once.

    Args:
        size: Leaves already in the tree.
        hashes: Their perfect subtree roots, largest first (one per set bit of ``size``).
    """

    __slots__ = ("_hashes", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if size < 0 or len(hashes) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves has {size.bit_count()} subtrees, not {len(hashes)}")
        if any(len(h) != HASH_SIZE for h in hashes):
            raise ValueError("every subtree root is a 32-byte SHA-256 digest")
        self.size = size
        self._hashes = list(hashes)

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The perfect subtree roots, largest first."""
        return tuple(self._hashes)

    def append(self, leaf: bytes) -> None:
        """Add the leaf whose hash (see :func:`leaf_hash`) is ``leaf``."""
        self._hashes.append(leaf)
        carry = self.size
        while carry & 1:
            right = self._hashes.pop()
            self._hashes[-1] = node_hash(self._hashes[-1], right)
            carry >>= 1
        self.size += 1

    def root(self) -> bytes:
        """The Merkle tree hash of the leaves so far."""
        if not self._hashes:
            return EMPTY_ROOT
        acc = self._hashes[-1]
        for subtree in reversed(self._hashes[:-1]):
            acc = node_hash(subtree, acc)
        return acc


def root_of(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of ``leaves`` (leaf hashes)."""
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


def consistency_proof(leaves: Sequence[bytes], m: int) -> list[bytes]:
    """The RFC 6962 proof that the first ``m`` of ``leaves`` (leaf hashes) are a prefix of them all."""
    n = len(leaves)
    if not 0 < m <= n:
        raise ValueError(f"a consistency proof needs 0 < m <= n, got m={m}, n={n}")
    return _subproof(m, leaves, complete=True)


def _subproof(m: int, leaves: Sequence[bytes], *, complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root_of(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete=complete), root_of(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], complete=False), root_of(leaves[:k])]


def verify_consistency(m: int, n: int, root_m: bytes, root_n: bytes, proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` shows the tree of size ``m`` with ``root_m`` is a prefix of ``root_n``'s."""
    if not 0 <= m <= n:
        return False
    if m == n:
        return not proof and root_m == root_n
    if m == 0:
        return not proof  # the empty tree is a prefix of every tree
    path = list(proof)
    if not path:
        return False
    if m & (m - 1) == 0:  # an exact power of two: the old root is itself a node of the new tree
        path.insert(0, root_m)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root_m and sr == root_n and sn == 0
