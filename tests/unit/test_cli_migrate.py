"""The pure parts of `routeiq migrate`: where a DSN points, masking its password, the retry backoff."""

from __future__ import annotations

import random
import sqlite3

import pytest

from routeiq_app.cli_migrate import (
    FIRST_DELAY_S,
    MAX_DELAY_S,
    backoff,
    is_transient,
    postgres_endpoint,
    redactor,
)
from routeiq_core.access import KeyStoreError


@pytest.mark.parametrize(
    ("dsn", "endpoint"),
    [
        ("postgresql://app:secret@db.internal:6543/routeiq", "db.internal:6543"),
        ("postgresql://app@db.internal/routeiq", "db.internal:5432"),
        ("postgresql://a:b@h1:5433,h2/routeiq", "h1:5433,h2:5432"),
        ("postgresql://a:b@[::1]:5999/routeiq", "[::1]:5999"),
        ("postgresql://a:b@[::1]/routeiq", "[::1]:5432"),
        ("postgresql:///routeiq?host=/run/postgresql&port=5433", "/run/postgresql:5433"),
    ],
)
def test_postgres_endpoint_names_hosts_and_ports_only(
    dsn: str, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PGPORT", raising=False)
    assert postgres_endpoint(dsn) == endpoint


def test_redactor_masks_the_password_as_written_and_decoded() -> None:
    redact = redactor("postgresql://app:p%40ss-w0rd@db:5432/x?password=other-secret")
    assert redact("failed for p%40ss-w0rd / p@ss-w0rd / other-secret at db:5432") == (
        "failed for *** / *** / *** at db:5432"
    )
    assert redactor(None)("nothing to hide") == "nothing to hide"
    assert redactor("postgresql://app@db/x")("app@db") == "app@db"


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    rng = random.Random(7)
    for attempt in range(1, 40):
        ceiling = min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** (attempt - 1))
        assert ceiling / 2 <= backoff(attempt, rng) <= ceiling
    assert backoff(100_000, rng) <= MAX_DELAY_S  # no overflow however long --wait is
    assert len({round(backoff(10, rng), 6) for _ in range(20)}) > 1


def test_only_connection_failures_are_retried() -> None:
    def wrapped(cause: BaseException) -> KeyStoreError:
        try:
            raise KeyStoreError("key store failed") from cause
        except KeyStoreError as exc:
            return exc

    assert is_transient(wrapped(ConnectionRefusedError(111, "refused")))
    assert is_transient(wrapped(TimeoutError()))
    assert not is_transient(wrapped(sqlite3.OperationalError("no such table")))
    assert not is_transient(KeyStoreError("the keys table is newer than this RouteIQ"))
