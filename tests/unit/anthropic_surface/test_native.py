"""The Messages surface's native side: the protocol headers it forwards and the stream it relays."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import msgspec

from routeiq_app.surfaces.anthropic.native import native_events, native_request, protocol_headers
from routeiq_core.errors import UpstreamError


def test_only_anthropics_protocol_headers_travel_and_only_sane_ones() -> None:
    scope = {
        "headers": [
            (b"anthropic-version", b"2023-06-01"),
            (b"anthropic-beta", b"x" * 2000),  # too long
            (b"x-api-key", b"sk-client"),  # the client's key never goes upstream
            (b"authorization", b"Bearer sk-client"),
        ]
    }
    assert protocol_headers(scope) == {"anthropic-version": "2023-06-01"}
    assert protocol_headers({"headers": [(b"anthropic-beta", b"a\x01b")]}) == {}
    assert protocol_headers({"headers": [(b"anthropic-beta", b"tools-2024-04-04")]}) == {
        "anthropic-beta": "tools-2024-04-04"
    }


async def _frames(fail: bool) -> AsyncIterator[bytes]:
    yield b'event: message_start\ndata: {"type":"message_start"}\n\n'
    if fail:
        raise UpstreamError("overloaded", status_code=503)


def test_a_relayed_stream_that_breaks_ends_with_an_anthropic_error_event() -> None:
    async def collect(fail: bool) -> list[bytes]:
        return [chunk async for chunk in native_events(_frames(fail), "req-1")]

    assert anyio.run(collect, False) == [b'event: message_start\ndata: {"type":"message_start"}\n\n']
    *kept, last = anyio.run(collect, True)
    assert len(kept) == 1
    name, data = last.split(b"\n", 1)
    assert name == b"event: error"
    assert msgspec.json.decode(data.removeprefix(b"data: ")) == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "overloaded"},
        "request_id": "req-1",
    }


def test_upstream_account_state_is_never_forwarded() -> None:
    body = {"model": "claude", "messages": [], "container": "container_of_another_key", "x_unknown": 1}
    native = native_request(body, {})
    assert native.body == {"model": "claude", "messages": [], "x_unknown": 1}
    assert "container" in body  # the client's body itself is left alone
