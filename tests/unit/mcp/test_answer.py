"""Answering a call: JSON when it ends silently, SSE once the upstream speaks, keep-alives, cancellation."""

from __future__ import annotations

import functools
from typing import Any

import anyio
import pytest

from routeiq_app.surfaces.mcp.answer import Outcome, Push, answer

pytestmark = pytest.mark.anyio


class Wire:
    """An ASGI peer: records what was sent; ``disconnect`` makes ``receive`` report the client gone."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.gone = anyio.Event()

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    async def receive(self) -> dict[str, Any]:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")

    @property
    def content_type(self) -> bytes:
        return dict(self.sent[0]["headers"])[b"content-type"]


async def test_a_quick_answer_is_json() -> None:
    wire = Wire()

    async def run(push: Push) -> Outcome:
        return 200, b'{"result":1}', []

    await answer(wire.send, wire.receive, run, stream=True)
    assert wire.sent[0]["status"] == 200
    assert wire.content_type == b"application/json"
    assert wire.body == b'{"result":1}'


async def test_interim_messages_turn_the_answer_into_sse() -> None:
    wire = Wire()

    async def run(push: Push) -> Outcome:
        await push(b'{"method":"notifications/progress"}')
        return 200, b'{"result":2}', []

    await answer(wire.send, wire.receive, run, stream=True)
    assert wire.content_type.startswith(b"text/event-stream")
    assert wire.body == (
        b'event: message\ndata: {"method":"notifications/progress"}\n\nevent: message\ndata: {"result":2}\n\n'
    )


async def test_without_sse_interim_messages_are_dropped() -> None:
    wire = Wire()

    async def run(push: Push) -> Outcome:
        await push(b'{"method":"notifications/progress"}')
        return 400, b'{"error":1}', [(b"retry-after", b"1")]

    await answer(wire.send, wire.receive, run, stream=False)
    assert wire.sent[0]["status"] == 400
    assert wire.body == b'{"error":1}'


async def test_a_silent_long_call_streams_keep_alives() -> None:
    wire = Wire()

    async def run(push: Push) -> Outcome:
        await anyio.sleep(0.35)
        return 200, b'{"result":3}', []

    await answer(wire.send, wire.receive, run, stream=True, keepalive_s=0.1)
    assert wire.content_type.startswith(b"text/event-stream")
    assert wire.body.count(b": keep-alive\n\n") >= 2
    assert wire.body.endswith(b'event: message\ndata: {"result":3}\n\n')


async def test_the_client_going_away_cancels_the_call() -> None:
    wire = Wire()
    cancelled = anyio.Event()

    async def run(push: Push) -> Outcome:
        await push(b"{}")
        try:
            await anyio.sleep(30)
        except anyio.get_cancelled_exc_class():
            cancelled.set()
            raise
        return 200, b"{}", []

    async with anyio.create_task_group() as group:
        group.start_soon(functools.partial(answer, wire.send, wire.receive, run, stream=True))
        await anyio.sleep(0.05)
        wire.gone.set()
    assert cancelled.is_set()
