"""Server→client requests reach the client with sealed ids; the client's reply reaches that upstream."""

from __future__ import annotations

import json
from typing import Any

import anyio
import msgspec
import pytest

from routeiq_adapters.crypto import AesGcmSealer
from routeiq_app.surfaces.mcp.dispatch import Dispatcher, Exchange
from routeiq_app.surfaces.mcp.wire import Headers, decode_message
from routeiq_core.mcp import Handshake, SessionBook
from tests.support.mcp_fakes import FakeUpstream, ServiceRig

pytestmark = pytest.mark.anyio

SAMPLING = {"jsonrpc": "2.0", "id": 7, "method": "sampling/createMessage", "params": {"maxTokens": 5}}
PROGRESS = {
    "jsonrpc": "2.0",
    "method": "notifications/progress",
    "params": {"progressToken": "p", "progress": 1},
}


class Wire:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    async def receive(self) -> dict[str, Any]:
        await anyio.sleep_forever()
        raise AssertionError

    def events(self) -> list[Any]:
        body = b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")
        return [json.loads(line[6:]) for line in body.decode().splitlines() if line.startswith("data: ")]


async def setup(era: str) -> tuple[Dispatcher, FakeUpstream, Exchange, ServiceRig]:
    upstream = FakeUpstream("gh", {"tools": [{"name": "ask"}]})
    upstream.progress = [msgspec.json.encode(PROGRESS), msgspec.json.encode(SAMPLING)]
    rig = ServiceRig(upstream)
    sessions = SessionBook(AesGcmSealer("k"))
    dispatcher = Dispatcher(rig.service, Handshake(rig.guarded), sessions, {"name": "routeiq"})
    caller = await rig.caller()
    _, session = sessions.mint(
        owner=caller.principal.label, version="2025-11-25", upstream={"gh": "up-9"}, capabilities={}
    )
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "gh__ask"}}
    exchange = Exchange(
        era=era,  # type: ignore[arg-type]
        caller=caller,
        message=decode_message(msgspec.json.encode(body)),
        headers=Headers(accept="application/json, text/event-stream"),
        session=session if era == "legacy" else None,
    )
    return dispatcher, upstream, exchange, rig


async def test_a_legacy_client_gets_the_request_under_a_sealed_id_and_its_reply_goes_back() -> None:
    dispatcher, upstream, exchange, rig = await setup("legacy")
    wire = Wire()
    await dispatcher.handle(exchange, wire.send, wire.receive)
    progress, request, final = wire.events()
    assert progress == PROGRESS
    assert request["method"] == "sampling/createMessage"
    assert request["params"] == {"maxTokens": 5}
    assert request["id"] != 7
    assert final["id"] == 1
    assert upstream.calls[-1].session == "up-9"
    reply = decode_message(msgspec.json.encode({"jsonrpc": "2.0", "id": request["id"], "result": {"ok": 1}}))
    assert not await dispatcher.deliver(reply, await rig.caller())  # another key
    assert await dispatcher.deliver(reply, exchange.caller)
    message, session = upstream.replies[-1]
    assert json.loads(message) == {"jsonrpc": "2.0", "id": 7, "result": {"ok": 1}}
    assert session == "up-9"
    forged = decode_message(msgspec.json.encode({"jsonrpc": "2.0", "id": "forged", "result": {}}))
    assert not await dispatcher.deliver(forged, exchange.caller)


async def test_a_current_era_client_gets_notifications_but_no_requests() -> None:
    dispatcher, _, exchange, _ = await setup("current")
    wire = Wire()
    await dispatcher.handle(exchange, wire.send, wire.receive)
    events = wire.events()
    assert [event.get("method") for event in events] == ["notifications/progress", None]
    assert events[-1]["result"]["resultType"] == "complete"
