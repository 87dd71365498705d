"""Read and rewrite the text inside OpenAI requests, responses and streamed chunks.

Requests: ``messages[].content`` (a string, or a list of parts whose ``text`` parts are read),
``prompt`` and ``input`` (a string or a list of strings; token-id lists are left alone). Responses:
``choices[].message.content`` and ``choices[].text``. Stream chunks: ``choices[].delta.content`` and
``choices[].text``. Rewrites return modified copies; the objects passed in are never changed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import msgspec

from routeiq_core.sse import json_frame

TextMap = Callable[[str], str]
ChoiceTextMap = Callable[[int, str], str]
"""Rewrites the text of one choice; gets the choice ``index`` (for per-choice stream state)."""

_DATA = b"data:"


def _content_texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return []


def _map_content(content: Any, fn: TextMap) -> Any:
    if isinstance(content, str):
        return fn(content)
    if isinstance(content, list):
        return [
            {**p, "text": fn(p["text"])} if isinstance(p, dict) and isinstance(p.get("text"), str) else p
            for p in content
        ]
    return content


def _plain_texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _map_plain(value: Any, fn: TextMap) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [fn(v) if isinstance(v, str) else v for v in value]
    return value


def conversation(payload: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(role, text)`` per chat message (text parts joined by newlines), then ``prompt``/``input``.

    ``prompt`` and ``input`` texts count as ``user`` turns.
    """
    turns: list[tuple[str, str]] = []
    messages = payload.get("messages")
    if isinstance(messages, list):
        for m in messages:
            if isinstance(m, dict):
                texts = _content_texts(m.get("content"))
                if texts:
                    turns.append((str(m.get("role", "user")), "\n".join(texts)))
    for key in ("prompt", "input"):
        turns += [("user", t) for t in _plain_texts(payload.get(key))]
    return turns


def request_texts(payload: Mapping[str, Any], roles: Collection[str] | None = None) -> list[str]:
    """Every text of a request; with ``roles``, only messages of those roles (prompt/input count as user)."""
    texts: list[str] = []
    messages = payload.get("messages")
    if isinstance(messages, list):
        for m in messages:
            if isinstance(m, dict) and (roles is None or m.get("role") in roles):
                texts += _content_texts(m.get("content"))
    if roles is None or "user" in roles:
        texts += _plain_texts(payload.get("prompt")) + _plain_texts(payload.get("input"))
    return texts


def map_request_text(
    payload: Mapping[str, Any], fn: TextMap, roles: Collection[str] | None = None
) -> dict[str, Any]:
    """A copy of ``payload`` with ``fn`` applied to every text (of ``roles``' messages, when given)."""
    out = dict(payload)
    messages = payload.get("messages")
    if isinstance(messages, list):
        out["messages"] = [
            {**m, "content": _map_content(m.get("content"), fn)}
            if isinstance(m, dict) and "content" in m and (roles is None or m.get("role") in roles)
            else m
            for m in messages
        ]
    if roles is None or "user" in roles:
        for key in ("prompt", "input"):
            if key in payload:
                out[key] = _map_plain(payload[key], fn)
    return out


def _choices(obj: Mapping[str, Any]) -> list[Any]:
    choices = obj.get("choices")
    return choices if isinstance(choices, list) else []


def response_texts(body: Mapping[str, Any]) -> list[str]:
    """The text of every choice of a chat or text completion."""
    texts: list[str] = []
    for choice in _choices(body):
        if isinstance(choice, dict):
            message = choice.get("message")
            if isinstance(message, dict):
                texts += _content_texts(message.get("content"))
            if isinstance(choice.get("text"), str):
                texts.append(choice["text"])
    return texts


def _map_choice(choice: Any, field: str, fn: ChoiceTextMap) -> Any:
    if not isinstance(choice, dict):
        return choice
    index = choice.get("index", 0)
    index = index if isinstance(index, int) else 0
    out = dict(choice)
    inner = choice.get(field)
    if isinstance(inner, dict) and "content" in inner:
        out[field] = {**inner, "content": _map_content(inner["content"], lambda t: fn(index, t))}
    if isinstance(choice.get("text"), str):
        out["text"] = fn(index, choice["text"])
    return out


def map_response_text(body: Mapping[str, Any], fn: TextMap) -> dict[str, Any]:
    """A copy of a completion with ``fn`` applied to each choice's text."""
    return {**body, "choices": [_map_choice(c, "message", lambda _, t: fn(t)) for c in _choices(body)]}


def chunk_texts(chunk: Mapping[str, Any]) -> list[tuple[int, str]]:
    """``(choice index, text)`` of each choice of a streamed chunk that carries text."""
    found: list[tuple[int, str]] = []
    for choice in _choices(chunk):
        if not isinstance(choice, dict):
            continue
        index = choice.get("index", 0)
        delta = choice.get("delta")
        texts = _content_texts(delta.get("content")) if isinstance(delta, dict) else []
        texts += _plain_texts(choice.get("text"))
        found += [(index if isinstance(index, int) else 0, t) for t in texts]
    return found


def map_chunk_text(chunk: Mapping[str, Any], fn: ChoiceTextMap) -> dict[str, Any]:
    """A copy of a streamed chunk with ``fn(index, text)`` applied to each choice's delta text."""
    return {**chunk, "choices": [_map_choice(c, "delta", fn) for c in _choices(chunk)]}


def decode_frame(frame: bytes) -> dict[str, Any] | None:
    """The JSON object of one SSE ``data:`` frame; ``None`` for ``[DONE]``, comments and non-objects."""
    for line in frame.splitlines():
        if line.startswith(_DATA):
            data = line[len(_DATA) :].strip()
            if data == b"[DONE]":
                return None
            try:
                obj = msgspec.json.decode(data)
            except msgspec.DecodeError:
                return None
            return obj if isinstance(obj, dict) else None
    return None


def map_frame_text(frame: bytes, fn: ChoiceTextMap) -> bytes:
    """The frame with ``fn(index, text)`` applied to its delta texts; unchanged when it has none."""
    chunk = decode_frame(frame)
    if chunk is None or not chunk_texts(chunk):
        return frame
    return json_frame(map_chunk_text(chunk, fn))
