"""The Responses surface's native side: the bodies it forwards, the history it reads, the stream it relays."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import msgspec

from routeiq_app.surfaces.responses.answers import FunctionCall, OutputMessage
from routeiq_app.surfaces.responses.native import native_events, native_output, native_request, response_id
from routeiq_app.surfaces.responses.wire import MessageItem, OutputText
from routeiq_core.errors import UpstreamError
from routeiq_core.native import NativeProtocol
from routeiq_core.responses import StoredResponse

BODY = {"model": "gpt", "input": "again", "previous_response_id": "resp_up1", "include": ["x"]}


def record(native_deployment: str | None) -> StoredResponse:
    return StoredResponse(
        id="resp_up1",
        owner=None,
        created_at=0,
        expires_at=1,
        conversation_id="resp_c",
        items=b"[]",
        response=b"{}",
        native_deployment=native_deployment,
    )


CONVERSATION = [
    MessageItem(role="user", content="first", id="msg_1", status="completed"),
    MessageItem(role="assistant", content=[OutputText(text="hello")], id="msg_2"),
    MessageItem(role="user", content="again"),
]


def test_a_first_turn_is_forwarded_as_sent() -> None:
    body = {"model": "gpt", "input": "hi", "x_unknown": 1}
    native = native_request(body, None, [])
    assert (native.protocol, native.body, native.continuation) == (NativeProtocol.RESPONSES, body, None)


def test_a_natively_made_previous_turn_is_named_to_its_deployment_and_spelled_out_to_others() -> None:
    native = native_request(BODY, record("gpt-0"), CONVERSATION)
    assert native.body_for("gpt-0", "m") == {**BODY, "model": "m"}  # its upstream holds the conversation
    spelled = native.body_for("gpt-1", "m")
    assert "previous_response_id" not in spelled
    assert spelled["include"] == ["x"]  # the client's other fields kept
    assert spelled["input"] == [
        {"type": "message", "role": "user", "content": "first"},  # ids and statuses left to the upstream
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "hello", "annotations": []}],
        },
        {"type": "message", "role": "user", "content": "again"},
    ]


def test_a_translated_previous_turn_is_always_spelled_out() -> None:
    native = native_request(BODY, record(None), CONVERSATION)
    assert native.continuation is None
    assert "previous_response_id" not in native.body_for("gpt-0", "m")


def test_a_native_responses_output_keeps_its_messages_and_function_calls_only() -> None:
    response = {
        "id": "resp_up1",
        "output": [
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "hi"}, {"type": "refusal", "refusal": "no"}],
            },
            {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f", "arguments": "{}"},
            {"type": "message", "id": 7},  # malformed: left out
            {"type": "web_search_call", "id": "ws_1"},
        ],
    }
    items = native_output(msgspec.json.encode(response))
    assert [type(i) for i in items] == [OutputMessage, FunctionCall]
    assert isinstance(items[0], OutputMessage)
    assert [p.text for p in items[0].content] == ["hi"]
    assert native_output(b"not json") == []


def test_an_upstream_id_is_used_only_when_it_is_sane() -> None:
    assert response_id(b'{"id": "resp_up1"}') == "resp_up1"
    assert response_id(b'{"id": "' + b"x" * 200 + b'"}') == ""
    assert response_id(b'{"id": "a\\nb"}') == ""
    assert response_id(b"[]") == ""


async def _frames(chunks: list[bytes], fail: bool) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
    if fail:
        raise UpstreamError("the upstream went away", status_code=502)


def test_the_final_response_is_stored_before_the_client_hears_of_it_and_a_break_is_an_error_event() -> None:
    final = b'event: response.completed\ndata: {"type":"x","response":{"id":"resp_up9","x":1}}\n\n'
    chunks = [b'event: response.created\ndata: {"type":"response.created"}\n\n', final]
    saved: list[tuple[str, bytes]] = []
    seen_when_saved: list[int] = []
    out: list[bytes] = []

    async def save(found: str, response: bytes) -> None:
        saved.append((found, response))
        seen_when_saved.append(len(out))

    async def main(fail: bool, store: bool) -> None:
        async for chunk in native_events(_frames(chunks, fail), save, store=store):
            out.append(chunk)

    anyio.run(main, False, True)
    assert out == chunks
    assert saved == [("resp_up9", b'{"id":"resp_up9","x":1}')]
    assert seen_when_saved == [1]  # the completed event was not yet sent
    out.clear()
    saved.clear()
    anyio.run(main, True, False)
    assert saved == []  # store: false
    assert out[:2] == chunks
    assert out[2].startswith(b"event: error\ndata: ")
    assert msgspec.json.decode(out[2].split(b"data: ", 1)[1]) == {
        "type": "error",
        "code": "upstream_error",
        "message": "the upstream went away",
        "param": None,
        "sequence_number": 2,
    }


def test_an_upstream_conversation_object_is_never_forwarded() -> None:
    native = native_request({"model": "gpt", "input": "hi", "conversation": "conv_of_another_key"}, None, [])
    assert native.body == {"model": "gpt", "input": "hi"}
