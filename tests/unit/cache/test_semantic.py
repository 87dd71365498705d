"""Semantic cache: the similarity threshold, scope isolation, eviction and expiry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from routeiq_core.cache.entry import CachedResponse
from routeiq_core.cache.semantic import SemanticCache, SemanticScope, semantic_text

pytestmark = pytest.mark.anyio


class ToyEmbedder:
    """Texts are ``"<axis>"`` or ``"<axis>~<angle in degrees>"``: a unit vector rotated from that axis.

    So the cosine similarity of ``"a"`` and ``"a~θ"`` is exactly ``cos θ``, and distinct axes are orthogonal.
    """

    dim = 8
    axes = "abcdefg"

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            axis, _, angle = text.partition("~")
            theta = np.radians(float(angle or 0))
            out[row, self.axes.index(axis)] = np.cos(theta)
            out[row, self.dim - 1] = np.sin(theta)
        return out


SCOPE = SemanticScope(model_group="chat", tenant="team-a")


def answer(text: str, created: float = 1000.0) -> CachedResponse:
    return CachedResponse(body=text.encode(), model_group="chat", created=created)


def cache(**kw: Any) -> SemanticCache:
    return SemanticCache(ToyEmbedder(), threshold=0.9, offload=False, clock=lambda: 1000.0, **kw)


async def test_a_hit_needs_the_threshold() -> None:
    c = cache()
    await c.add(SCOPE, "a", answer("A"))
    hit = await c.lookup(SCOPE, "a~20")  # cos 20° = 0.940
    assert hit is not None
    assert hit[0].body == b"A"
    assert hit[1] == pytest.approx(np.cos(np.radians(20)), abs=1e-6)
    assert await c.lookup(SCOPE, "a~30") is None  # cos 30° = 0.866
    assert await c.lookup(SCOPE, "b") is None


async def test_the_most_similar_entry_wins() -> None:
    c = cache()
    await c.add(SCOPE, "a", answer("A"))
    await c.add(SCOPE, "b", answer("B"))
    hit = await c.lookup(SCOPE, "b~5")
    assert hit is not None
    assert hit[0].body == b"B"


async def test_tenants_model_groups_and_variants_are_isolated() -> None:
    c = cache()
    await c.add(SCOPE, "a", answer("A"))
    assert await c.lookup(SemanticScope(model_group="chat", tenant="team-b"), "a") is None
    assert await c.lookup(SemanticScope(model_group="other", tenant="team-a"), "a") is None
    assert await c.lookup(SemanticScope(model_group="chat", tenant="team-a", variant="t=0.5"), "a") is None
    assert await c.lookup(SCOPE, "a") is not None


async def test_a_near_identical_prompt_replaces_the_entry() -> None:
    c = cache()
    await c.add(SCOPE, "a", answer("old"))
    await c.add(SCOPE, "a~5", answer("new"))
    assert c.size(SCOPE) == 1
    hit = await c.lookup(SCOPE, "a")
    assert hit is not None
    assert hit[0].body == b"new"


async def test_least_recently_used_entries_are_evicted() -> None:
    c = cache(max_entries=2)
    await c.add(SCOPE, "a", answer("A"))
    await c.add(SCOPE, "b", answer("B"))
    assert await c.lookup(SCOPE, "a") is not None  # a is now more recent than b
    await c.add(SCOPE, "c", answer("C"))
    assert c.size(SCOPE) == 2
    assert await c.lookup(SCOPE, "b") is None
    assert await c.lookup(SCOPE, "a") is not None
    assert await c.lookup(SCOPE, "c") is not None


async def test_least_recently_used_scopes_are_dropped() -> None:
    c = cache(max_scopes=1)
    other = SemanticScope(model_group="chat", tenant="team-b")
    await c.add(SCOPE, "a", answer("A"))
    await c.add(other, "a", answer("A2"))
    assert await c.lookup(SCOPE, "a") is None
    assert await c.lookup(other, "a") is not None


async def test_expired_entries_are_not_served_and_their_rows_are_reused() -> None:
    c = cache(ttl_s=60.0, max_entries=1)
    await c.add(SCOPE, "a", answer("A", created=900.0))  # 100 s old at clock 1000
    assert await c.lookup(SCOPE, "a") is None
    await c.add(SCOPE, "b", answer("B", created=990.0))
    assert c.size(SCOPE) == 1
    assert await c.lookup(SCOPE, "b") is not None


async def test_many_entries_grow_the_matrix_and_clear_empties_the_scope() -> None:
    c = SemanticCache(ToyEmbedder(), threshold=0.9999, max_entries=100)
    for angle in range(0, 60, 2):
        await c.add(SCOPE, f"a~{angle}", answer(str(angle)))
    assert c.size(SCOPE) == 30
    hit = await c.lookup(SCOPE, "a~40")
    assert hit is not None
    assert hit[0].body == b"40"
    assert c.clear(SCOPE) == 30
    assert c.size(SCOPE) == 0
    assert await c.lookup(SCOPE, "a") is None


def test_invalid_settings() -> None:
    with pytest.raises(ValueError, match="threshold"):
        SemanticCache(ToyEmbedder(), threshold=0.0)
    with pytest.raises(ValueError, match="max_entries"):
        SemanticCache(ToyEmbedder(), max_entries=0)


def test_semantic_text_keeps_roles_so_system_prompts_matter() -> None:
    payload = {"messages": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"}]}
    assert semantic_text(payload) == "system: Be terse.\nuser: Hi"
    assert semantic_text({"prompt": "Once"}) == "user: Once"
