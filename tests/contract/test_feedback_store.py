"""The FeedbackStore contract, run against every adapter: memory, SQLite (a temp file), PostgreSQL.

PostgreSQL runs use a schema of their own, dropped afterwards; they skip locally when the server is
down and fail under CI (``postgres_dsn``). Two store instances on one database stand for two workers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from routeiq_adapters.feedback import InMemoryFeedbackStore, PostgresFeedbackStore, SQLiteFeedbackStore
from routeiq_core.feedback import FeedbackQuery, FeedbackRecord, FeedbackStore
from tests.support.store_openers import store_openers

pytestmark = pytest.mark.anyio
NOW = 1_800_000_000.0

Opener = Callable[[], FeedbackStore]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens store instances on one database (the memory adapter: always the same instance)."""
    async with store_openers(
        request,
        tmp_path,
        memory=lambda: InMemoryFeedbackStore(),
        sqlite=lambda path: SQLiteFeedbackStore(path),
        postgres=lambda dsn, schema: PostgresFeedbackStore(dsn, schema=schema, timeout_s=5.0),
        prefix="riq_feedback",
    ) as opener:
        yield opener


def feedback(at: float = NOW, **fields: object) -> FeedbackRecord:
    base: dict[str, object] = {
        "at": at,
        "source": "client",
        "request_id": "req-1",
        "response_id": "chatcmpl-1",
        "score": 0.75,
        "label": "thumbs_up",
        "comment": "fine \x00 é",
        "key_id": "key-a",
        "team": "red",
        "model_group": "demo",
        "deployment_id": "demo-a",
        "submitted_by": "key-a",
    }
    return FeedbackRecord(**{**base, **fields})  # type: ignore[arg-type]


async def test_a_record_reads_back_whole_and_from_another_worker(open_store: Opener) -> None:
    first, second = open_store(), open_store()
    await first.add(feedback())
    [found] = await second.query(FeedbackQuery())
    # SQL text cannot hold NUL: the databases keep U+FFFD in its place, memory keeps it as it was.
    kept = "fine \x00 é" if isinstance(second, InMemoryFeedbackStore) else "fine \ufffd é"
    assert found == feedback(comment=kept)


async def test_filters_and_newest_first(open_store: Opener) -> None:
    store = open_store()
    await store.add(feedback(NOW, request_id="r1"))
    await store.add(feedback(NOW + 2, request_id="r2", key_id="key-b", team="blue", source="evaluator"))
    await store.add(feedback(NOW + 1, request_id="r3", model_group="other", score=None))
    ids = [r.request_id for r in await store.query(FeedbackQuery())]
    assert ids == ["r2", "r3", "r1"]
    assert [r.request_id for r in await store.query(FeedbackQuery(key_id="key-b"))] == ["r2"]
    assert [r.request_id for r in await store.query(FeedbackQuery(team="red"))] == ["r3", "r1"]
    assert [r.request_id for r in await store.query(FeedbackQuery(source="evaluator"))] == ["r2"]
    assert [r.request_id for r in await store.query(FeedbackQuery(model_group="other"))] == ["r3"]
    assert [r.request_id for r in await store.query(FeedbackQuery(request_id="r1"))] == ["r1"]
    assert [r.request_id for r in await store.query(FeedbackQuery(since=NOW + 1))] == ["r2", "r3"]
    assert [r.request_id for r in await store.query(FeedbackQuery(before=NOW + 2, limit=1))] == ["r3"]
    [unscored] = await store.query(FeedbackQuery(request_id="r3"))
    assert unscored.score is None


async def test_a_filter_that_matches_nothing_selects_nothing(open_store: Opener) -> None:
    store = open_store()
    await store.add(feedback())
    assert await store.query(FeedbackQuery(key_id="")) == []
