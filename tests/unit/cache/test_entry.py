"""Replaying a cached completion as OpenAI stream chunks."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from routeiq_core.cache.entry import CachedResponse, replay_frames
from routeiq_core.providers import Usage

USAGE = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}


def entry(body: dict[str, Any], usage: Usage | None = None) -> CachedResponse:
    return CachedResponse(
        body=msgspec.json.encode(body), model_group="chat", created=1_700_000_000.0, usage=usage
    )


def parse(frames: list[bytes]) -> list[dict[str, Any]]:
    chunks = []
    for frame in frames:
        assert frame.startswith(b"data: ")
        assert frame.endswith(b"\n\n")
        assert frame.count(b"\n\n") == 1
        payload = frame[len(b"data: ") : -2]
        assert payload != b"[DONE]"
        chunks.append(msgspec.json.decode(payload))
    return chunks


def chat_body(content: str, **message: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 123,
        "model": "up-model",
        "system_fingerprint": "fp_1",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, **message},
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
    }


@pytest.mark.parametrize("piece_chars", [None, 1, 7, 1000])
def test_chat_replay_is_valid_chunks_whose_content_equals_the_original(piece_chars: int | None) -> None:
    content = "Hello! Here is a cached answer, with ünïcödé and emoji 🎉."
    chunks = parse(replay_frames(entry(chat_body(content)), piece_chars=piece_chars))
    for chunk in chunks:
        assert chunk["object"] == "chat.completion.chunk"
        assert (chunk["id"], chunk["created"], chunk["model"], chunk["system_fingerprint"]) == (
            "chatcmpl-1",
            123,
            "up-model",
            "fp_1",
        )
        assert [c["index"] for c in chunk["choices"]] == [0]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == content
    assert [c["choices"][0]["finish_reason"] for c in chunks][-1] == "stop"
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert "usage" not in chunks[-1]


def test_usage_chunk_when_asked() -> None:
    chunks = parse(replay_frames(entry(chat_body("x")), include_usage=True))
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == USAGE
    body = chat_body("x")
    del body["usage"]
    stored = Usage(prompt_tokens=1, completion_tokens=2, total_tokens=3)
    last = parse(replay_frames(entry(body, stored), include_usage=True))[-1]
    assert last["usage"] == {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}


def test_several_choices_and_tool_calls() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}
    body = chat_body("a")
    body["choices"].append(
        {
            "index": 1,
            "message": {"role": "assistant", "content": None, "tool_calls": [call]},
            "finish_reason": "tool_calls",
        }
    )
    chunks = parse(replay_frames(entry(body)))
    by_choice: dict[int, list[dict[str, Any]]] = {}
    for chunk in chunks:
        (choice,) = chunk["choices"]
        by_choice.setdefault(choice["index"], []).append(choice)
    assert "".join(c["delta"].get("content", "") for c in by_choice[0]) == "a"
    tool_deltas = [c["delta"]["tool_calls"] for c in by_choice[1] if "tool_calls" in c["delta"]]
    assert tool_deltas == [[{"index": 0, **call}]]
    assert by_choice[1][-1]["finish_reason"] == "tool_calls"


def test_text_completion_replay() -> None:
    body = {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 5,
        "model": "m",
        "choices": [{"index": 0, "text": "once upon a time", "finish_reason": "length"}],
    }
    chunks = parse(replay_frames(entry(body), piece_chars=4))
    assert all(c["object"] == "text_completion" for c in chunks)
    assert "".join(c["choices"][0]["text"] for c in chunks) == "once upon a time"
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_bodies_without_object_are_recognised_by_their_choices() -> None:
    body = {"choices": [{"index": 0, "message": {"content": "hi"}, "finish_reason": "stop"}]}
    chunks = parse(replay_frames(entry(body)))
    assert chunks[0]["object"] == "chat.completion.chunk"
    assert chunks[0]["model"] == "chat"
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "hi"


def test_embeddings_cannot_be_replayed() -> None:
    with pytest.raises(ValueError, match="only chat and text completions"):
        replay_frames(entry({"object": "list", "data": [{"embedding": [0.1]}]}))
