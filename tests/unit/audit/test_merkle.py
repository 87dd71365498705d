"""The RFC 6962 Merkle tree hash and consistency proofs, against the published test vectors."""

from __future__ import annotations

import hashlib
import random

import pytest

from routeiq_core.audit import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    leaf_hash,
    node_hash,
    root_of,
    verify_consistency,
)

# The inputs and tree heads of RFC 6962's reference implementation tests (certificate-transparency).
LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
HASHES = [leaf_hash(leaf) for leaf in LEAVES]


def _reference_root(leaves: list[bytes]) -> bytes:
    """MTH as RFC 6962 section 2.1 writes it, recursively."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_reference_root(leaves[:k]), _reference_root(leaves[k:]))


def test_the_empty_tree_and_the_hash_prefixes() -> None:
    assert EMPTY_ROOT.hex() == ROOTS[0]
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


@pytest.mark.parametrize("size", range(9))
def test_roots_match_rfc_6962_at_every_size(size: int) -> None:
    assert root_of(HASHES[:size]).hex() == ROOTS[size]


def test_the_frontier_gives_the_root_at_every_size_of_a_larger_tree() -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(300)]
    frontier = Frontier()
    for n, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        assert len(frontier.hashes) == n.bit_count()
        if n < 70 or n % 37 == 0:
            assert frontier.root() == _reference_root(leaves[:n])
    again = Frontier(frontier.size, frontier.hashes)  # restored from a stored head
    again.append(leaf_hash(b"next"))
    assert again.root() == _reference_root([*leaves, leaf_hash(b"next")])


def test_a_frontier_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="subtrees"):
        Frontier(3, [EMPTY_ROOT])
    with pytest.raises(ValueError, match="32-byte"):
        Frontier(1, [b"short"])


@pytest.mark.parametrize(("m", "n", "proof"), CONSISTENCY)
def test_consistency_proofs_match_and_verify_the_published_ones(m: int, n: int, proof: list[str]) -> None:
    built = consistency_proof(HASHES[:n], m)
    assert [h.hex() for h in built] == proof
    assert verify_consistency(m, n, root_of(HASHES[:m]), root_of(HASHES[:n]), built)


def test_every_consistency_proof_verifies_and_no_tampered_one_does() -> None:
    rng = random.Random(6962)
    leaves = [leaf_hash(bytes([i])) for i in range(40)]
    for n in range(1, 41):
        root_n = root_of(leaves[:n])
        for m in range(1, n + 1):
            proof = consistency_proof(leaves[:n], m)
            root_m = root_of(leaves[:m])
            assert verify_consistency(m, n, root_m, root_n, proof), (m, n)
            assert not verify_consistency(m, n, root_n if m != n else EMPTY_ROOT, root_n, proof)
            if proof:
                bad = list(proof)
                bad[rng.randrange(len(bad))] = EMPTY_ROOT
                assert not verify_consistency(m, n, root_m, root_n, bad), (m, n)
                assert not verify_consistency(m, n, root_m, root_n, proof[:-1]), (m, n)


def test_a_rewritten_prefix_is_not_consistent() -> None:
    leaves = [leaf_hash(bytes([i])) for i in range(10)]
    forged = [leaf_hash(b"forged"), *leaves[1:]]
    proof = consistency_proof(forged, 4)
    assert not verify_consistency(4, 10, root_of(leaves[:4]), root_of(forged), proof)
    assert verify_consistency(0, 10, EMPTY_ROOT, root_of(leaves), [])
    assert not verify_consistency(5, 4, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(ValueError, match="0 < m <= n"):
        consistency_proof(leaves, 0)
