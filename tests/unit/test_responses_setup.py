"""Choosing the response store's backend from the settings, and its lifecycle."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from routeiq_adapters.responses import InMemoryResponseStore, PostgresResponseStore, SQLiteResponseStore
from routeiq_app.responses_setup import response_store, run_response_store
from routeiq_app.settings import Settings, load_settings


def settings(tmp_path: Path, **env: str) -> Settings:
    env.setdefault("KEYS__SQLITE_PATH", str(tmp_path / "keys.db"))
    return load_settings(None, {f"ROUTEIQ_{k}": v for k, v in env.items()})


def test_sqlite_by_default_in_a_file_beside_the_key_store(tmp_path: Path) -> None:
    store = response_store(settings(tmp_path))
    assert isinstance(store, SQLiteResponseStore)
    assert store._db._path == str(tmp_path / "keys-responses.db")


def test_memory_for_an_in_memory_key_store_or_when_asked(tmp_path: Path) -> None:
    assert isinstance(response_store(settings(tmp_path, KEYS__SQLITE_PATH=":memory:")), InMemoryResponseStore)
    assert isinstance(response_store(settings(tmp_path, RESPONSES__BACKEND="memory")), InMemoryResponseStore)


def test_postgres_with_the_key_store_or_when_asked(tmp_path: Path) -> None:
    dsn = "postgresql://routeiq@db.internal/routeiq"
    store = response_store(settings(tmp_path, KEYS__BACKEND="postgres", KEYS__POSTGRES_DSN=dsn))
    assert isinstance(store, PostgresResponseStore)
    with pytest.raises(ValueError, match=r"keys\.postgres_dsn is not set"):
        response_store(settings(tmp_path, RESPONSES__BACKEND="postgres"))


def test_the_ttl_setting_is_validated(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="RESPONSES__TTL_S"):
        settings(tmp_path, RESPONSES__TTL_S="-1")


def test_the_resource_creates_the_schema_and_closes(tmp_path: Path) -> None:
    async def run() -> None:
        store = SQLiteResponseStore(tmp_path / "r.db")
        resource = run_response_store(store)
        assert await resource.__anext__() is store
        with pytest.raises(StopAsyncIteration):
            await resource.__anext__()

    anyio.run(run)
    assert (tmp_path / "r.db").exists()
