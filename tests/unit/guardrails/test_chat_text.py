"""Reading and rewriting the text of OpenAI requests, responses and stream chunks."""

from __future__ import annotations

import copy
from typing import Any

import msgspec

from routeiq_core.guardrails import chat_text

REQUEST: dict[str, Any] = {
    "model": "m",
    "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {}}]},
        {"role": "assistant", "content": None, "tool_calls": []},
        {"role": "user", "content": "bye"},
    ],
    "temperature": 0,
}


def test_request_texts_and_roles() -> None:
    assert chat_text.request_texts(REQUEST) == ["be brief", "hi", "bye"]
    assert chat_text.request_texts(REQUEST, roles=("user",)) == ["hi", "bye"]
    assert chat_text.request_texts({"prompt": ["a", "b"], "input": "c"}) == ["a", "b", "c"]
    assert chat_text.request_texts({"input": [[1, 2, 3]]}) == []


def test_conversation_joins_parts_and_skips_empty_messages() -> None:
    assert chat_text.conversation(REQUEST) == [("system", "be brief"), ("user", "hi"), ("user", "bye")]


def test_map_request_text_returns_a_modified_copy() -> None:
    before = copy.deepcopy(REQUEST)
    out = chat_text.map_request_text(REQUEST, str.upper, roles=("user",))
    assert before == REQUEST
    assert chat_text.request_texts(out) == ["be brief", "HI", "BYE"]
    assert out["messages"][1]["content"][1] == {"type": "image_url", "image_url": {}}
    assert out["messages"][2] == REQUEST["messages"][2]
    assert chat_text.map_request_text({"prompt": "x", "input": ["y", 1]}, str.upper) == {
        "prompt": "X",
        "input": ["Y", 1],
    }


def test_response_texts_and_map() -> None:
    body = {
        "object": "chat.completion",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "one"}},
            {"index": 1, "message": {"role": "assistant", "content": None}},
        ],
    }
    assert chat_text.response_texts(body) == ["one"]
    mapped = chat_text.map_response_text(body, lambda t: t + "!")
    assert chat_text.response_texts(mapped) == ["one!"]
    assert body["choices"][0]["message"]["content"] == "one"
    assert chat_text.response_texts({"choices": [{"text": "legacy"}]}) == ["legacy"]


def test_chunks_and_frames() -> None:
    chunk = {
        "choices": [{"index": 1, "delta": {"content": "ab"}}, {"index": 0, "delta": {"role": "assistant"}}]
    }
    assert chat_text.chunk_texts(chunk) == [(1, "ab")]
    frame = b"data: " + msgspec.json.encode(chunk) + b"\n\n"
    assert chat_text.decode_frame(frame) == chunk
    out = chat_text.map_frame_text(frame, lambda i, t: f"{i}:{t}")
    assert out.startswith(b"data: ")
    assert out.endswith(b"\n\n")
    decoded = chat_text.decode_frame(out)
    assert decoded is not None
    assert chat_text.chunk_texts(decoded) == [(1, "1:ab")]


def test_frames_without_text_pass_through_unchanged() -> None:
    usage = b'data: {"choices":[],"usage":{"total_tokens":3}}\n\n'
    assert chat_text.map_frame_text(usage, lambda i, t: "x") is usage
    assert chat_text.decode_frame(b"data: [DONE]\n\n") is None
    assert chat_text.decode_frame(b": keep-alive\n\n") is None
    assert chat_text.decode_frame(b"data: not json\n\n") is None
