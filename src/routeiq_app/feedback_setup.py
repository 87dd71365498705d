"""Building the feedback store and service from the settings, for the container."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from routeiq_adapters.feedback import InMemoryFeedbackStore, PostgresFeedbackStore, SQLiteFeedbackStore
from routeiq_app.access_setup import IN_MEMORY, sqlite_path
from routeiq_app.request_log_setup import request_log_backend
from routeiq_app.settings import Settings
from routeiq_core.feedback import FeedbackService, FeedbackStore
from routeiq_core.request_log import RequestLog
from routeiq_core.responses import ResponseStore
from routeiq_core.routing import DeploymentStrategy, LearnsQuality


def feedback_backend(settings: Settings) -> str:
    """Where feedback lives: beside the request log (the key store's database when the log is off)."""
    keys = settings.keys
    return request_log_backend(settings) or ("memory" if keys.sqlite_path == IN_MEMORY else keys.backend)


def feedback_store(settings: Settings) -> FeedbackStore:
    """The feedback store (``feedback_backend`` says which)."""
    keys = settings.keys
    backend = feedback_backend(settings)
    if backend == "memory":
        return InMemoryFeedbackStore()
    if backend == "postgres":
        if not keys.postgres_dsn:
            raise ValueError("feedback is kept in postgres but keys.postgres_dsn is not set")
        return PostgresFeedbackStore(keys.postgres_dsn, schema=keys.postgres_schema, timeout_s=keys.timeout_s)
    return SQLiteFeedbackStore(sqlite_path(settings, "feedback"), busy_timeout_s=keys.timeout_s)


async def run_feedback_store(store: FeedbackStore) -> AsyncIterator[FeedbackStore]:
    """Container Resource: create or migrate the schema at startup; close the database at shutdown."""
    if isinstance(store, SQLiteFeedbackStore | PostgresFeedbackStore):
        await store.ensure_schema()
    try:
        yield store
    finally:
        await store.close()


def feedback_service(
    settings: Settings,
    store: FeedbackStore,
    log: RequestLog | None,
    responses: ResponseStore,
    strategy: DeploymentStrategy | None = None,
) -> FeedbackService:
    """Client feedback, checked against the request log; scores also teach a strategy that learns."""

    async def owner(response_id: str) -> tuple[bool, str | None]:
        stored = await responses.get(response_id, time.time())
        return (stored is not None, stored.owner if stored is not None else None)

    learner = strategy if isinstance(strategy, LearnsQuality) else None
    return FeedbackService(
        store,
        log=log,
        response_owner=owner,
        on_quality=learner.on_quality if learner is not None else None,
        lookup_wait_s=min(settings.observability.request_log.flush_interval_s, 5.0),
    )
