"""Shared fixtures: a fresh container per test, the app around it, and real-service probes."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient

from routeiq_app import Container, create_app
from routeiq_app.settings import Settings

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
POSTGRES_DSN = os.environ.get("ROUTEIQ_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (``pytest.mark.anyio``) run on asyncio."""
    return "asyncio"


@pytest.fixture
def settings() -> Settings:
    """Default settings; tests that need others override this fixture or build their own."""
    return Settings()


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    """A fresh container per test, with settings injected rather than read from the environment."""
    c = Container()
    c.settings.override(providers.Object(settings))
    yield c
    c.unwire()
    c.reset_singletons()


@pytest.fixture
def app(container: Container) -> Litestar:
    return create_app(container)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as test_client:
        yield test_client


def _redis_answers() -> str | None:
    """None when Redis answers PING, else why not."""
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError as exc:
        return f"cannot connect to Redis at {REDIS_HOST}:{REDIS_PORT}: {exc}"
    return None if reply.startswith(b"+PONG") else f"unexpected Redis reply {reply!r}"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the local Redis. Skips (with the reason) when it is down locally; fails under CI."""
    problem = _redis_answers()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required in CI: {problem}")
        pytest.skip(problem)
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


def _postgres_answers(dsn: str) -> str | None:
    """None when something accepts connections at the DSN's host and port, else why not."""
    parts = urlsplit(dsn)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return None
    except OSError as exc:
        return f"cannot connect to PostgreSQL at {host}:{port}: {exc}"


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """DSN of the local PostgreSQL. Skips (with the reason) when it is down locally; fails under CI."""
    problem = _postgres_answers(POSTGRES_DSN)
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {problem}")
        pytest.skip(problem)
    return POSTGRES_DSN


@pytest.fixture(autouse=True, scope="session")
def _work_in_a_temporary_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Files the gateway creates by default (the SQLite key store) land in a temporary folder."""
    previous = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("cwd"))
    yield
    os.chdir(previous)
