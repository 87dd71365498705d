"""A cached answer, and its replay as a stream of OpenAI chunks.

Answers are cached as the complete (non-streamed) JSON body. A streaming request served from the
cache gets that body back as ``chat.completion.chunk`` (or streamed ``text_completion``) SSE frames:
per choice, a role chunk, the content (in pieces of ``piece_chars`` characters, or whole), any tool
calls, and a chunk with the ``finish_reason``; then, when asked, a usage-only chunk. Like the
provider port's streams, the frames exclude the closing ``data: [DONE]``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from routeiq_core.providers import Usage
from routeiq_core.sse import json_frame


class CachedResponse(msgspec.Struct, frozen=True, kw_only=True):
    """One cached answer.

    Attributes:
        body: The complete OpenAI JSON body, as the upstream returned it.
        usage: The token counts the original call reported.
        created: Unix time it was stored.
        model_group: The model group it answers for.
    """

    body: bytes
    model_group: str
    created: float
    usage: Usage | None = None


def _pieces(text: str, size: int | None) -> list[str]:
    if not text:
        return []
    if not size or size <= 0:
        return [text]
    return [text[i : i + size] for i in range(0, len(text), size)]


def _chat_choice_deltas(choice: dict[str, Any], piece_chars: int | None) -> list[dict[str, Any]]:
    raw = choice.get("message")
    message: dict[str, Any] = raw if isinstance(raw, dict) else {}
    deltas: list[dict[str, Any]] = [{"role": message.get("role", "assistant"), "content": ""}]
    content = message.get("content")
    deltas += [{"content": p} for p in _pieces(content if isinstance(content, str) else "", piece_chars)]
    if isinstance(message.get("refusal"), str):
        deltas.append({"refusal": message["refusal"]})
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        deltas += [
            {"tool_calls": [{"index": i, **call}]} for i, call in enumerate(calls) if isinstance(call, dict)
        ]
    return deltas


def _chat_frames(base: dict[str, Any], choice: dict[str, Any], piece_chars: int | None) -> list[bytes]:
    index = choice.get("index", 0)
    frames = [
        json_frame(
            {**base, "choices": [{"index": index, "delta": d, "logprobs": None, "finish_reason": None}]}
        )
        for d in _chat_choice_deltas(choice, piece_chars)
    ]
    final = {"index": index, "delta": {}, "logprobs": None, "finish_reason": choice.get("finish_reason")}
    return [*frames, json_frame({**base, "choices": [final]})]


def _text_frames(base: dict[str, Any], choice: dict[str, Any], piece_chars: int | None) -> list[bytes]:
    index = choice.get("index", 0)
    text = choice.get("text")
    frames = [
        json_frame(
            {**base, "choices": [{"index": index, "text": p, "logprobs": None, "finish_reason": None}]}
        )
        for p in _pieces(text if isinstance(text, str) else "", piece_chars)
    ]
    final = {"index": index, "text": "", "logprobs": None, "finish_reason": choice.get("finish_reason")}
    return [*frames, json_frame({**base, "choices": [final]})]


def _is_chat(body: Any) -> bool:
    """Chat (``True``) or text completion (``False``), from ``object`` or else from the choices."""
    kind = body.get("object") if isinstance(body, dict) else None
    choices = body.get("choices") if isinstance(body, dict) else None
    if kind is None and isinstance(choices, list) and choices and isinstance(choices[0], dict):
        kind = "text_completion" if "text" in choices[0] else "chat.completion"
    if kind == "chat.completion":
        return True
    if kind == "text_completion":
        return False
    raise ValueError("only chat and text completions can be replayed as a stream")


def replay_frames(
    entry: CachedResponse, *, include_usage: bool = False, piece_chars: int | None = None
) -> list[bytes]:
    """The cached answer as SSE chunk frames (``[DONE]`` excluded).

    Args:
        entry: A cached chat or text completion.
        include_usage: Append a usage-only chunk, as ``stream_options.include_usage`` asks.
        piece_chars: Split content into pieces of this many characters (``None``: one piece).

    Raises:
        ValueError: The body is not a chat or text completion (embeddings do not stream).
    """
    body = msgspec.json.decode(entry.body)
    chat = _is_chat(body)
    base: dict[str, Any] = {
        "id": body.get("id", ""),
        "object": "chat.completion.chunk" if chat else "text_completion",
        "created": body.get("created", int(entry.created)),
        "model": body.get("model", entry.model_group),
    }
    if body.get("system_fingerprint") is not None:
        base["system_fingerprint"] = body["system_fingerprint"]
    frames: list[bytes] = []
    for choice in body.get("choices") or []:
        if isinstance(choice, dict):
            frames += (_chat_frames if chat else _text_frames)(base, choice, piece_chars)
    if include_usage:
        usage = body.get("usage")
        if usage is None and entry.usage is not None:
            usage = msgspec.to_builtins(entry.usage)
        frames.append(json_frame({**base, "choices": [], "usage": usage}))
    return frames
