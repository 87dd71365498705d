"""Sealed legacy sessions: they open only for their key, unaltered, unexpired, unended, under our key."""

from __future__ import annotations

import base64

import pytest

from routeiq_adapters.crypto import AesGcmSealer
from routeiq_core.mcp import SessionBook
from tests.support.clocks import ManualClock

pytestmark = pytest.mark.anyio


def book(secret: str = "s3cret", clock: ManualClock | None = None, ttl_s: float = 100.0) -> SessionBook:
    return SessionBook(AesGcmSealer(secret), ttl_s=ttl_s, clock=clock or ManualClock())


def mint(sessions: SessionBook, owner: str = "key_1") -> str:
    token, _ = sessions.mint(
        owner=owner, version="2025-11-25", upstream={"gh": "up-1"}, capabilities={"sampling": {}}
    )
    return token


async def test_a_session_opens_with_what_was_sealed() -> None:
    sessions = book()
    token = mint(sessions)
    opened = await sessions.open(token, owner="key_1")
    assert opened is not None
    assert (opened.version, opened.upstream, opened.capabilities) == (
        "2025-11-25",
        {"gh": "up-1"},
        {"sampling": {}},
    )
    assert token.isascii()
    assert "=" not in token


async def test_any_worker_with_the_same_key_opens_it() -> None:
    assert await book().open(mint(book()), owner="key_1") is not None


async def test_a_foreign_key_tampering_or_garbage_opens_nothing() -> None:
    token = mint(book())
    assert await book("another").open(token, owner="key_1") is None
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-1] ^= 1
    tampered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    assert await book().open(tampered, owner="key_1") is None
    for junk in ("", "x", "not base64 !", "A" * 9000, "é"):
        assert await book().open(junk, owner="key_1") is None


async def test_another_callers_session_is_not_found() -> None:
    sessions = book()
    assert await sessions.open(mint(sessions, owner="key_1"), owner="key_2") is None


async def test_an_expired_session_is_not_found() -> None:
    clock = ManualClock()
    sessions = book(clock=clock, ttl_s=60)
    token = mint(sessions)
    clock.advance(59)
    assert await sessions.open(token, owner="key_1") is not None
    clock.advance(2)
    assert await sessions.open(token, owner="key_1") is None


async def test_an_ended_session_is_not_found() -> None:
    sessions = book()
    token = mint(sessions)
    opened = await sessions.open(token, owner="key_1")
    assert opened is not None
    await sessions.end(opened)
    assert await sessions.open(token, owner="key_1") is None
    assert await sessions.open(mint(sessions), owner="key_1") is not None  # others live on


async def test_relayed_ids_name_their_upstream_and_cannot_pass_for_sessions() -> None:
    sessions = book()
    relayed = sessions.relay_id("gh", "up-1", 7, owner="key_1")
    assert sessions.relayed(relayed, owner="key_2") is None  # another key's client
    found = sessions.relayed(relayed, owner="key_1")
    assert found is not None
    assert (found.server, found.session, found.id) == ("gh", "up-1", 7)
    assert await sessions.open(relayed, owner="key_1") is None  # purpose-bound
    assert sessions.relayed(mint(sessions), owner="key_1") is None
    assert sessions.relayed(7, owner="key_1") is None
