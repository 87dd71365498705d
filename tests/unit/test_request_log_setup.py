"""Choosing the request log's backend and its body redaction from the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from routeiq_adapters.request_log import InMemoryRequestLog, PostgresRequestLog, SQLiteRequestLog
from routeiq_app.request_log_setup import body_redactor, request_journal, request_log
from routeiq_app.settings import Settings, load_settings

EMAIL_AND_CARD = "mail bob@example.org, card 4111 1111 1111 1111"


def settings(tmp_path: Path, **env: str) -> Settings:
    env.setdefault("KEYS__SQLITE_PATH", str(tmp_path / "keys.db"))
    return load_settings(None, {f"ROUTEIQ_{k}": v for k, v in env.items()})


def test_sqlite_by_default_in_a_file_beside_the_key_store(tmp_path: Path) -> None:
    log = request_log(settings(tmp_path))
    assert isinstance(log, SQLiteRequestLog)
    assert log._db._path == str(tmp_path / "keys-requests.db")


def test_in_memory_for_an_in_memory_key_store_or_when_asked(tmp_path: Path) -> None:
    assert isinstance(request_log(settings(tmp_path, KEYS__SQLITE_PATH=":memory:")), InMemoryRequestLog)
    memory = settings(tmp_path, OBSERVABILITY__REQUEST_LOG__BACKEND="memory")
    assert isinstance(request_log(memory), InMemoryRequestLog)


def test_postgres_with_the_key_store_or_when_asked(tmp_path: Path) -> None:
    dsn = "postgresql://routeiq@db.internal/routeiq"
    with_keys = settings(
        tmp_path, KEYS__BACKEND="postgres", KEYS__POSTGRES_DSN=dsn, KEYS__POSTGRES_SCHEMA="riq"
    )
    log = request_log(with_keys)
    assert isinstance(log, PostgresRequestLog)
    assert repr(log) == "PostgresRequestLog(schema='riq')"
    asked = settings(tmp_path, OBSERVABILITY__REQUEST_LOG__BACKEND="postgres", KEYS__POSTGRES_DSN=dsn)
    assert isinstance(request_log(asked), PostgresRequestLog)
    with pytest.raises(ValueError, match=r"keys\.postgres_dsn is not set"):
        request_log(settings(tmp_path, OBSERVABILITY__REQUEST_LOG__BACKEND="postgres"))
    keeps_sqlite = settings(
        tmp_path,
        KEYS__BACKEND="postgres",
        KEYS__POSTGRES_DSN=dsn,
        OBSERVABILITY__REQUEST_LOG__BACKEND="sqlite",
    )
    assert isinstance(request_log(keeps_sqlite), SQLiteRequestLog)


def test_off_means_no_log_and_no_journal(tmp_path: Path) -> None:
    off = settings(tmp_path, OBSERVABILITY__REQUEST_LOG__ENABLED="false")
    assert request_log(off) is None
    assert request_journal(off, None) is None


def test_bodies_are_redacted_by_default_only_with_pii_guard(tmp_path: Path) -> None:
    assert body_redactor(settings(tmp_path)) is None
    guarded = body_redactor(settings(tmp_path, PLUGINS__ENABLED="pii_guard"))
    assert guarded is not None
    assert guarded(EMAIL_AND_CARD) == "mail [REDACTED:EMAIL], card [REDACTED:CREDIT_CARD]"
    off = settings(tmp_path, PLUGINS__ENABLED="pii_guard", OBSERVABILITY__REQUEST_LOG__REDACT_BODIES="false")
    assert body_redactor(off) is None
    forced = body_redactor(settings(tmp_path, OBSERVABILITY__REQUEST_LOG__REDACT_BODIES="true"))
    assert forced is not None
    assert forced(EMAIL_AND_CARD) == "mail [REDACTED:EMAIL], card [REDACTED:CREDIT_CARD]"


def test_redaction_masks_the_kinds_pii_guard_looks_for(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("plugins: {enabled: [pii_guard], pii_guard: {kinds: [EMAIL]}}\n")
    redact = body_redactor(load_settings(str(config), {}))
    assert redact is not None
    assert redact(EMAIL_AND_CARD) == "mail [REDACTED:EMAIL], card 4111 1111 1111 1111"


def test_the_journal_redacts_only_when_bodies_are_logged(tmp_path: Path) -> None:
    guarded = settings(tmp_path, PLUGINS__ENABLED="pii_guard")
    log = InMemoryRequestLog()
    assert request_journal(guarded, log)._redact is None  # type: ignore[union-attr]
    with_bodies = settings(tmp_path, PLUGINS__ENABLED="pii_guard", OBSERVABILITY__REQUEST_LOG__BODIES="true")
    journal = request_journal(with_bodies, log)
    assert journal is not None
    assert journal._bodies
    assert journal._redact is not None
