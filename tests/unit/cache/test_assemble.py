"""Folding a streamed completion back into the body a non-streamed call returns."""

from __future__ import annotations

from typing import Any

import msgspec

from routeiq_core.cache.assemble import StreamAssembler
from routeiq_core.cache.entry import CachedResponse, replay_frames


def frame(obj: dict[str, Any]) -> bytes:
    return b"data: " + msgspec.json.encode(obj) + b"\n\n"


def assemble(frames: list[bytes]) -> dict[str, Any] | None:
    assembler = StreamAssembler()
    for f in frames:
        assembler.feed(f)
    body = assembler.body()
    return None if body is None else msgspec.json.decode(body)


def test_round_trip_through_replay() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    original = {
        "id": "x",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello there"},
                "logprobs": None,
                "finish_reason": "stop",
            },
            {"index": 1, "message": message, "logprobs": None, "finish_reason": "tool_calls"},
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    }
    entry = CachedResponse(body=msgspec.json.encode(original), model_group="g", created=0.0)
    assert (
        assemble([*replay_frames(entry, include_usage=True, piece_chars=3), b"data: [DONE]\n\n"]) == original
    )


def test_tool_call_arguments_arriving_in_pieces_are_joined() -> None:
    base = {"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    parts = [
        {"delta": {"role": "assistant", "tool_calls": [{"index": 0, "id": "c", "type": "function",
                                                        "function": {"name": "f", "arguments": '{"a"'}}]}},
        {"delta": {"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}},
        {"delta": {}, "finish_reason": "tool_calls"},
    ]  # fmt: skip
    body = assemble([frame({**base, "choices": [{"index": 0, **p}]}) for p in parts])
    assert body is not None
    (call,) = body["choices"][0]["message"]["tool_calls"]
    assert call == {"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}


def test_text_completions() -> None:
    base = {"id": "t", "object": "text_completion", "created": 1, "model": "m"}
    frames = [
        frame({**base, "choices": [{"index": 0, "text": "ab", "finish_reason": None}]}),
        frame({**base, "choices": [{"index": 0, "text": "c", "finish_reason": "length"}]}),
    ]
    body = assemble(frames)
    assert body is not None
    assert body["object"] == "text_completion"
    assert body["choices"][0]["text"] == "abc"


def test_unfinished_or_failed_streams_give_nothing_to_cache() -> None:
    base = {"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    unfinished = [frame({**base, "choices": [{"index": 0, "delta": {"content": "a"}}]})]
    assert assemble(unfinished) is None
    failed = [*unfinished, frame({"error": {"message": "boom"}})]
    assert assemble(failed) is None
    assert assemble([]) is None
