"""Building the request log and its journal from the settings, for the container."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Literal

import msgspec

from routeiq_adapters.plugins.pii_guard import NAME as PII_GUARD
from routeiq_adapters.plugins.pii_guard import PiiGuardConfig
from routeiq_adapters.request_log import InMemoryRequestLog, PostgresRequestLog, SQLiteRequestLog
from routeiq_app.access_setup import IN_MEMORY, sqlite_path
from routeiq_app.settings import Settings
from routeiq_core.guardrails.pii import ALL_KINDS, PiiKind, redact
from routeiq_core.metrics import Metrics
from routeiq_core.request_log import Redact, RequestJournal, RequestLog

Backend = Literal["sqlite", "postgres", "memory"]


def request_log(settings: Settings, metrics: Metrics | None = None) -> RequestLog | None:
    """The configured request log (not yet opened); None when it is off.

    Its backend defaults to the key store's: a SQLite file beside the key store's file, or the key
    store's PostgreSQL schema; a ``:memory:`` key store means an in-memory log.
    """
    config = settings.observability.request_log
    keys = settings.keys
    backend = request_log_backend(settings)
    if backend is None:
        return None
    if backend == "memory":
        return InMemoryRequestLog(max_records=config.max_buffered, retention_days=config.retention_days)
    if backend == "postgres":
        if not keys.postgres_dsn:
            raise ValueError("the request log's backend is postgres but keys.postgres_dsn is not set")
        return PostgresRequestLog(
            keys.postgres_dsn,
            schema=keys.postgres_schema,
            timeout_s=keys.timeout_s,
            flush_interval_s=config.flush_interval_s,
            retention_days=config.retention_days,
            max_pending=config.max_buffered,
            metrics=metrics,
        )
    return SQLiteRequestLog(
        sqlite_path(settings, "requests"),
        busy_timeout_s=keys.timeout_s,
        flush_interval_s=config.flush_interval_s,
        retention_days=config.retention_days,
        max_pending=config.max_buffered,
        metrics=metrics,
    )


def request_log_backend(settings: Settings) -> Backend | None:
    """Where the request log lives (None: it is off): its own setting, else the key store's backend."""
    config = settings.observability.request_log
    if not config.enabled:
        return None
    backend: Backend = settings.keys.backend if config.backend == "auto" else config.backend
    if backend == "sqlite" and settings.keys.sqlite_path == IN_MEMORY:
        return "memory"
    return backend


async def run_request_log(log: RequestLog | None) -> AsyncIterator[RequestLog | None]:
    """Container Resource: create/migrate the schema at startup, then flush in the background.

    At shutdown the last buffered records are flushed before the database closes.
    """
    if log is None:
        yield None
        return
    if isinstance(log, SQLiteRequestLog | PostgresRequestLog):
        await log.ensure_schema()
    try:
        async with log.flushing():
            yield log
    finally:
        await log.close()


def request_journal(settings: Settings, log: RequestLog | None) -> RequestJournal | None:
    """What turns each call's end into a record (None when the request log is off)."""
    if log is None:
        return None
    config = settings.observability.request_log
    return RequestJournal(
        log,
        bodies=config.bodies,
        redact=body_redactor(settings) if config.bodies else None,
        max_body_chars=config.max_body_chars,
    )


def body_redactor(settings: Settings) -> Redact | None:
    """The PII detectors' redaction of logged bodies, when it is on (by default: with ``pii_guard``).

    It masks the kinds ``plugins.pii_guard.kinds`` names when that plugin is enabled, else every kind.
    """
    guarded = PII_GUARD in settings.plugins.enabled
    wanted = settings.observability.request_log.redact_bodies
    if not (guarded if wanted is None else wanted):
        return None
    kinds: frozenset[PiiKind] = ALL_KINDS
    if guarded:
        try:
            section = settings.plugins.sections.get(PII_GUARD, {})
            kinds = frozenset(msgspec.convert(section, PiiGuardConfig).kinds)
        except msgspec.ValidationError:
            pass  # building the plugin reports its bad settings; the log masks every kind meanwhile
    return functools.partial(_masked, kinds=kinds)


def _masked(text: str, *, kinds: frozenset[PiiKind]) -> str:
    return redact(text, kinds)[0]
