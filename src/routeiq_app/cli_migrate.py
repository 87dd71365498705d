"""``routeiq migrate``: create or upgrade the stores' tables (keys, teams, spend, logs, responses, files).

What a Kubernetes initContainer or Job runs before the gateway's pods start. The container builds the
stores exactly as ``serve`` does, and each creates or migrates its tables as it would at startup, so
the command is idempotent, and any number of runs (and gateways starting meanwhile) migrate once:
PostgreSQL under one advisory lock, SQLite inside ``BEGIN IMMEDIATE``.

Exit status: 0 when every store is at this RouteIQ's schema version (or lives in memory), 1 when a
database failed or stayed unreachable for ``--wait`` seconds, 2 for configuration problems.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import anyio
import asyncpg  # type: ignore[import-untyped]
from dependency_injector import providers

from routeiq_adapters._schema import Component
from routeiq_adapters.audit import PostgresAuditStore, SQLiteAuditStore
from routeiq_adapters.audit._codec import COMPONENT as AUDIT
from routeiq_adapters.feedback import PostgresFeedbackStore, SQLiteFeedbackStore
from routeiq_adapters.feedback._schema import COMPONENT as FEEDBACK
from routeiq_adapters.keys._codec import COMPONENT as KEYS
from routeiq_adapters.provider_objects import PostgresObjectOwnershipStore, SQLiteObjectOwnershipStore
from routeiq_adapters.provider_objects._schema import COMPONENT as PROVIDER_OBJECTS
from routeiq_adapters.request_log import PostgresRequestLog, SQLiteRequestLog
from routeiq_adapters.request_log._schema import COMPONENT as REQUESTS
from routeiq_adapters.responses import PostgresResponseStore, SQLiteResponseStore
from routeiq_adapters.responses._schema import COMPONENT as RESPONSES
from routeiq_adapters.spend._schema import COMPONENT as SPEND
from routeiq_adapters.teams._codec import COMPONENT as TEAMS
from routeiq_app.access_setup import IN_MEMORY, sqlite_path
from routeiq_app.audit_setup import audit_backend
from routeiq_app.container import Container
from routeiq_app.feedback_setup import feedback_backend
from routeiq_app.provider_objects_setup import object_store_backend
from routeiq_app.request_log_setup import request_log_backend
from routeiq_app.responses_setup import response_store_backend
from routeiq_app.settings import Settings
from routeiq_app.settings.loader import load_settings_with_notices
from routeiq_app.settings.schema import CONFIG_ENV
from routeiq_core.errors import ConfigurationError, RouteIQError

EXIT_FAILED = 1
FIRST_DELAY_S = 0.25
MAX_DELAY_S = 5.0
_TRANSIENT = (OSError, TimeoutError, asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError)
"""Driver failures worth retrying: nothing listening or resolvable yet, the server starting or full."""


class SchemaStore(Protocol):
    """What migrating needs of a store: the key, team and spend stores and the SQL request logs have it."""

    async def ensure_schema(self) -> None:
        """Open the database and create or migrate the schema."""
        ...

    async def close(self) -> None:
        """Close the database."""
        ...


class Target(NamedTuple):
    """One store to migrate: its name, the store, where it lives (no credentials), its latest version."""

    name: str
    store: SchemaStore
    where: str
    version: int


class MigrationError(Exception):
    """A store could not be migrated; the message is for the operator and holds no credentials."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``migrate`` to the ``routeiq`` command."""
    migrate = subparsers.add_parser(
        "migrate",
        help="create or upgrade every store's tables (keys ... feedback), then exit",
        description="Create or upgrade the key, team, spend, request log, audit, responses, files and "
        "feedback tables of the configured backends, as `serve` would at startup, then exit: 0 migrated "
        "(or nothing to migrate), "
        "1 a database failed or stayed unreachable, 2 configuration problems. Safe to run repeatedly and "
        "concurrently.",
    )
    migrate.add_argument("--config", help=f"YAML settings file (default: ${CONFIG_ENV})")
    migrate.add_argument(
        "--wait",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="keep retrying an unreachable database for up to SECONDS, with capped, jittered exponential "
        "backoff (default 0: one attempt)",
    )
    migrate.set_defaults(run=migrate_command)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses NaN
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def migrate_command(args: argparse.Namespace) -> int:
    """``routeiq migrate``: bring the configured stores to this RouteIQ's schema, one line per store."""
    settings, notices = load_settings_with_notices(args.config)
    for notice in notices:
        print(f"routeiq: notice: {notice}", file=sys.stderr)
    keys = settings.keys
    if keys.backend == "sqlite" and keys.sqlite_path == IN_MEMORY:
        print(f"keys, teams, spend: in memory (keys.sqlite_path {IN_MEMORY!r}); nothing to migrate")
        return 0
    targets = _targets(settings)
    redact = redactor(keys.postgres_dsn)  # the key store's, which a PostgreSQL request log uses too
    status: int = anyio.run(_migrate, targets, args.wait, redact)
    return status


def _targets(settings: Settings) -> list[Target]:
    container = Container()
    container.settings.override(providers.Object(settings))
    try:
        stores: list[tuple[str, SchemaStore, Component]] = [
            ("keys", container.key_store(), KEYS),
            ("teams", container.team_store(), TEAMS),
            ("spend", container.spend_ledger(), SPEND),
        ]
        log = container.request_log()
        if isinstance(log, SQLiteRequestLog | PostgresRequestLog):  # not off, not in memory
            stores.append(("requests", log, REQUESTS))
        audit = container.audit_store()
        if isinstance(audit, SQLiteAuditStore | PostgresAuditStore):  # not off, not in memory
            stores.append(("audit", audit, AUDIT))
        responses = container.response_store()
        if isinstance(responses, SQLiteResponseStore | PostgresResponseStore):  # not in memory
            stores.append(("responses", responses, RESPONSES))
        objects = container.object_store()
        if isinstance(objects, SQLiteObjectOwnershipStore | PostgresObjectOwnershipStore):  # not in memory
            stores.append(("provider_objects", objects, PROVIDER_OBJECTS))
        feedback = container.feedback_store()
        if isinstance(feedback, SQLiteFeedbackStore | PostgresFeedbackStore):  # not in memory
            stores.append(("feedback", feedback, FEEDBACK))
    except ValueError as exc:
        raise ConfigurationError([str(exc)]) from exc
    return [Target(name, store, _where(settings, name), latest_version(c)) for name, store, c in stores]


def _where(settings: Settings, name: str) -> str:
    keys = settings.keys
    backend: str | None = keys.backend
    if name == "requests":
        backend = request_log_backend(settings)
    elif name == "audit":
        backend = audit_backend(settings)
    elif name == "responses":
        backend = response_store_backend(settings)
    elif name == "provider_objects":
        backend = object_store_backend(settings)
    elif name == "feedback":
        backend = feedback_backend(settings)
    if backend == "postgres":
        return f"postgres {postgres_endpoint(keys.postgres_dsn or '')} schema {keys.postgres_schema}"
    return f"sqlite {Path(sqlite_path(settings, name)).resolve()}"


def latest_version(component: Component) -> int:
    """The schema version a store of ``component`` is at once migrated by this RouteIQ."""
    return len(component.steps(component.table, "REAL"))


async def _migrate(targets: list[Target], wait_s: float, redact: Callable[[str], str]) -> int:
    deadline = time.monotonic() + wait_s
    rng = random.Random()
    for target in targets:
        try:
            await _ensure(target, deadline, wait_s, rng, redact)
        except MigrationError as exc:
            print(f"routeiq: {target.name}: {exc}", file=sys.stderr, flush=True)
            return EXIT_FAILED
        finally:
            await target.store.close()
        print(f"{target.name}: {target.where} at version {target.version}", flush=True)
    return 0


async def _ensure(
    target: Target, deadline: float, wait_s: float, rng: random.Random, redact: Callable[[str], str]
) -> None:
    """Migrate ``target``, retrying while its database is unreachable until ``deadline``."""
    started = time.monotonic()
    attempt = 1
    while True:
        try:
            await target.store.ensure_schema()
            return
        except RouteIQError as exc:
            reason = redact(exc.message)
            if not is_transient(exc):
                raise MigrationError(f"migrating {target.where} failed: {reason}") from exc
            left = deadline - time.monotonic()
            if left <= 0:
                hint = "" if wait_s else "; --wait SECONDS keeps retrying"
                raise MigrationError(
                    f"cannot reach {target.where}: gave up after {attempt} attempt(s) in "
                    f"{time.monotonic() - started:.1f}s (--wait {wait_s:g}): {reason}{hint}"
                ) from exc
            delay = min(left, backoff(attempt, rng))
            print(
                f"routeiq: {target.name}: cannot reach {target.where} (attempt {attempt}: {reason}); "
                f"retrying in {delay:.2f}s",
                file=sys.stderr,
                flush=True,
            )
            await anyio.sleep(delay)
            attempt += 1


def is_transient(exc: BaseException) -> bool:
    """Whether a store's failure came from a database not reachable yet (worth another attempt)."""
    return isinstance(exc.__cause__, _TRANSIENT)


def backoff(attempt: int, rng: random.Random) -> float:
    """Seconds to wait after failed ``attempt`` (1, 2, ...).

    Doubles from ``FIRST_DELAY_S`` up to ``MAX_DELAY_S``, then jittered to between half and all of
    that, so replicas retrying together spread out.
    """
    ceiling = min(MAX_DELAY_S, FIRST_DELAY_S * 2.0 ** min(attempt - 1, 32))
    return ceiling * rng.uniform(0.5, 1.0)


def postgres_endpoint(dsn: str) -> str:
    """``host:port`` of a PostgreSQL DSN (comma-separated for a multi-host one), without credentials."""
    parts = urlsplit(dsn)
    hosts = parts.netloc.rpartition("@")[2]
    query = parse_qs(parts.query)
    port = query.get("port", [os.environ.get("PGPORT", "5432")])[0]
    if not hosts:
        return f"{query.get('host', [os.environ.get('PGHOST', 'localhost')])[0]}:{port}"
    return ",".join(_host_port(host, port) for host in hosts.split(","))


def _host_port(host: str, default_port: str) -> str:
    if host.startswith("["):  # [::1]:5432
        address, _, rest = host[1:].partition("]")
        return f"[{address}]:{rest.removeprefix(':') or default_port}"
    name, _, port = host.partition(":")
    return f"{name or 'localhost'}:{port or default_port}"


def redactor(dsn: str | None) -> Callable[[str], str]:
    """A function masking the DSN's password (as written and decoded) in a message."""
    secrets: set[str] = set()
    if dsn:
        parts = urlsplit(dsn)
        userinfo = parts.netloc.rpartition("@")[0]
        password = userinfo.partition(":")[2] if ":" in userinfo else ""
        for value in (password, *parse_qs(parts.query).get("password", [])):
            secrets.update(s for s in (value, unquote(value)) if s)

    def redact(text: str) -> str:
        for secret in sorted(secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    return redact
