"""The hashing embedder: normalised, deterministic across processes, IDF state round-trips."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from routeiq_core.routing.learned import Embedder, HashingEmbedder, HashingEmbedderConfig

TEXTS = ["What is the derivative of x^2?", "Who won the Battle of Hastings?", "", "ünïcødé text ✓ 日本語"]


def test_shape_dtype_and_unit_norm() -> None:
    embedder = HashingEmbedder(HashingEmbedderConfig(dim=64))
    assert isinstance(embedder, Embedder)
    x = embedder.embed(TEXTS)
    assert x.shape == (4, 64)
    assert x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-5)
    assert embedder.embed([]).shape == (0, 64)


def test_similar_texts_are_closer() -> None:
    x = HashingEmbedder().embed(
        ["the cat sat on the mat", "a cat sat on a mat", "stock markets fell sharply"]
    )
    assert x[0] @ x[1] > x[0] @ x[2] + 0.3


def test_deterministic_across_processes() -> None:
    # Python's hash() is salted per process; the embedder must not depend on it.
    code = (
        "import hashlib; from routeiq_core.routing.learned import HashingEmbedder, HashingEmbedderConfig;"
        f"x = HashingEmbedder(HashingEmbedderConfig(dim=128)).embed({TEXTS!r});"
        "print(hashlib.sha256(x.tobytes()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed},
        ).stdout.strip()
        for seed in ("1", "2")
    }
    local = hashlib.sha256(HashingEmbedder(HashingEmbedderConfig(dim=128)).embed(TEXTS).tobytes()).hexdigest()
    assert digests == {local}


def test_fit_learns_idf_and_state_round_trips() -> None:
    embedder = HashingEmbedder(HashingEmbedderConfig(dim=64, hash_bits=12)).fit(TEXTS * 3)
    state = embedder.state()
    assert set(state) == {"idf"}
    assert state["idf"].shape == (4096,)
    rebuilt = HashingEmbedder.from_saved(embedder.config_dict(), state)
    np.testing.assert_array_equal(rebuilt.embed(TEXTS), embedder.embed(TEXTS))
    assert HashingEmbedder().state() == {}


def test_seed_changes_the_projection() -> None:
    a = HashingEmbedder(HashingEmbedderConfig(dim=64, seed=0)).embed(TEXTS[:1])
    b = HashingEmbedder(HashingEmbedderConfig(dim=64, seed=1)).embed(TEXTS[:1])
    assert not np.allclose(a, b)


def test_bad_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="hash_bits"):
        HashingEmbedder(HashingEmbedderConfig(hash_bits=30))
    with pytest.raises(ValueError, match="idf"):
        HashingEmbedder(HashingEmbedderConfig(hash_bits=10), idf=np.ones(5, np.float32))
