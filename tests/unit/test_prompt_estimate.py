"""The prompt-token estimate reserved before a call: conservative, media counted, any depth."""

from __future__ import annotations

from routeiq_core.gateway.types import IMAGE_PART_TOKENS, estimate_prompt_tokens
from routeiq_core.providers import Operation


def chat(*messages: dict[str, object], **extra: object) -> dict[str, object]:
    return {"model": "m", "messages": list(messages), **extra}


def test_text_is_about_four_characters_a_token_plus_a_little_per_message() -> None:
    assert estimate_prompt_tokens(Operation.CHAT, chat({"role": "user", "content": "x" * 400})) == 104
    parts = [{"type": "text", "text": "x" * 400}]
    assert estimate_prompt_tokens(Operation.CHAT, chat({"role": "user", "content": parts})) >= 104


def test_images_audio_and_files_are_not_free() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    audio = {"type": "input_audio", "input_audio": {"data": "A" * 64_000, "format": "wav"}}
    file = {"type": "file", "file": {"file_data": "B" * 40_000, "filename": "a.pdf"}}
    estimate = estimate_prompt_tokens(Operation.CHAT, chat({"role": "user", "content": [image, audio, file]}))
    assert estimate >= 4 + IMAGE_PART_TOKENS + 1_000 + 10_000


def test_tool_calls_and_tool_definitions_count() -> None:
    call = {"role": "assistant", "content": None, "tool_calls": [{"function": {"arguments": "y" * 800}}]}
    tools = [{"type": "function", "function": {"name": "f", "description": "d" * 400, "parameters": {}}}]
    bare = estimate_prompt_tokens(Operation.CHAT, chat({"role": "user", "content": "hi"}))
    full = estimate_prompt_tokens(Operation.CHAT, chat({"role": "user", "content": "hi"}, call, tools=tools))
    assert full >= bare + 200 + 100


def test_any_depth_is_counted_without_recursion() -> None:
    deep: object = "z" * 40
    for _ in range(50_000):
        deep = [deep]
    assert estimate_prompt_tokens(Operation.CHAT, chat({"role": "user", "content": deep})) == 14


def test_completions_and_embeddings_count_their_inputs() -> None:
    assert estimate_prompt_tokens(Operation.COMPLETIONS, {"prompt": "p" * 80}) == 20
    assert estimate_prompt_tokens(Operation.EMBEDDINGS, {"input": ["e" * 40, "e" * 40]}) == 20
