"""Building the access objects (keys, quota, policy) from the settings, for the container."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from routeiq_adapters.keys import PostgresKeyStore, SQLiteKeyStore
from routeiq_adapters.quota import InMemoryQuotaStore, RedisQuotaStore
from routeiq_adapters.spend import PostgresSpendLedger, SQLiteSpendLedger
from routeiq_adapters.teams import PostgresTeamStore, SQLiteTeamStore
from routeiq_app.settings import Settings
from routeiq_core.access import (
    BufferedSpendLedger,
    KeyHasher,
    KeyStore,
    OutageMonitor,
    Principal,
    QuotaConfig,
    QuotaStore,
    TeamStore,
)
from routeiq_core.metrics import Metrics

logger = logging.getLogger("routeiq.access")
DEV_SECRET = "routeiq-open-gateway-dev-secret"
IN_MEMORY = ":memory:"
"""``keys.sqlite_path`` for private in-memory databases: nothing persists, nothing to migrate."""


def key_hasher(settings: Settings) -> KeyHasher:
    """The keyed hash of virtual keys: the configured secret, else one derived from the master key."""
    secret = settings.security.key_hash_secret
    if secret is None and settings.security.master_key:
        secret = hashlib.sha256(b"routeiq-key-hash:" + settings.security.master_key.encode()).hexdigest()
    if secret is None:
        logger.warning("no security.key_hash_secret nor master key: virtual keys use a development secret")
        secret = DEV_SECRET
    return KeyHasher(secret)


def key_store(settings: Settings) -> KeyStore:
    """The configured key store adapter (not yet opened)."""
    keys = settings.keys
    if keys.backend == "postgres":
        if not keys.postgres_dsn:
            raise ValueError("keys.backend is postgres but keys.postgres_dsn is not set")
        return PostgresKeyStore(keys.postgres_dsn, schema=keys.postgres_schema, timeout_s=keys.timeout_s)
    return SQLiteKeyStore(sqlite_path(settings, "keys"), busy_timeout_s=keys.timeout_s)


def sqlite_path(settings: Settings, store: str) -> str:
    """The SQLite file of ``store`` (``keys``, ``teams`` or ``spend``) with the SQLite backend.

    The key store's is ``keys.sqlite_path``; the others get files of their own beside it
    (``<name>-teams<suffix>``): two SQLite connections migrating one file at the same startup lock
    each other out. With ``:memory:`` every store gets a private in-memory database.
    """
    path = settings.keys.sqlite_path
    if store == "keys" or path == IN_MEMORY:
        return path
    file = Path(path)
    return str(file.with_name(f"{file.stem}-{store}{file.suffix}"))


async def open_key_store(store: KeyStore) -> AsyncIterator[KeyStore]:
    """Container Resource: create/migrate the schema at startup, close at shutdown."""
    await store.ensure_schema()
    try:
        yield store
    finally:
        await store.close()


def team_store(settings: Settings) -> TeamStore:
    """The team store, beside the key store (not yet opened)."""
    keys = settings.keys
    if keys.backend == "postgres":
        if not keys.postgres_dsn:
            raise ValueError("keys.backend is postgres but keys.postgres_dsn is not set")
        return PostgresTeamStore(keys.postgres_dsn, schema=keys.postgres_schema, timeout_s=keys.timeout_s)
    # PostgreSQL shares one schema under an advisory lock; SQLite gets a file per store (sqlite_path).
    return SQLiteTeamStore(sqlite_path(settings, "teams"), busy_timeout_s=keys.timeout_s)


async def open_team_store(store: TeamStore) -> AsyncIterator[TeamStore]:
    """Container Resource: create/migrate the schema at startup, close at shutdown."""
    await store.ensure_schema()
    try:
        yield store
    finally:
        await store.close()


def spend_ledger(settings: Settings, metrics: Metrics | None = None) -> BufferedSpendLedger:
    """The spend ledger, beside the key store and shared by every worker using it (not yet opened)."""
    keys = settings.keys
    if keys.backend == "postgres":
        if not keys.postgres_dsn:
            raise ValueError("keys.backend is postgres but keys.postgres_dsn is not set")
        return PostgresSpendLedger(
            keys.postgres_dsn, schema=keys.postgres_schema, timeout_s=keys.timeout_s, metrics=metrics
        )
    return SQLiteSpendLedger(sqlite_path(settings, "spend"), busy_timeout_s=keys.timeout_s, metrics=metrics)


async def run_spend_ledger(ledger: BufferedSpendLedger) -> AsyncIterator[BufferedSpendLedger]:
    """Container Resource: create/migrate the schema at startup, then flush in the background.

    At shutdown the last buffered spend is flushed before the database closes.
    """
    await ledger.ensure_schema()
    try:
        async with ledger.flushing():
            yield ledger
    finally:
        await ledger.close()


def quota_store(settings: Settings) -> QuotaStore:
    """The configured quota store adapter."""
    quota = settings.quota
    if quota.backend == "redis":
        return RedisQuotaStore.from_url(
            quota.redis_url,
            namespace=quota.namespace,
            timeout_s=quota.timeout_s,
            reservation_ttl_s=quota.reservation_ttl_s,
        )
    return InMemoryQuotaStore(reservation_ttl_s=quota.reservation_ttl_s)


async def close_quota_store(store: QuotaStore, monitor: OutageMonitor) -> AsyncIterator[None]:
    """Container Resource: close the Redis connection pool at shutdown (no outage is declared then)."""
    try:
        yield
    finally:
        monitor.close()
        aclose = getattr(store, "aclose", None)
        if aclose is not None:
            await aclose()


def quota_config(settings: Settings) -> QuotaConfig:
    """The quota limits that are not on keys."""
    quota = settings.quota
    return QuotaConfig(
        global_limits=dict(quota.global_limits),
        team_limits={k: dict(v) for k, v in quota.team_limits.items()},
        model_group_limits={k: dict(v) for k, v in quota.model_group_limits.items()},
        default_max_tokens=quota.default_max_tokens,
        max_tokens_ceiling=quota.max_tokens_ceiling,
        on_outage=quota.on_outage,
        timeout_s=quota.timeout_s,
    )


def anonymous_principal(settings: Settings) -> Principal | None:
    """Callers without a key are the anonymous admin of an open gateway; None once a master key is set."""
    return None if settings.security.master_key else Principal.anonymous()
