"""Values passed in and out of the gateway use case."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec

from routeiq_core.context import RouteDecision
from routeiq_core.providers import Operation, Usage


class GatewayResponse(msgspec.Struct, kw_only=True):
    """A complete answer in OpenAI JSON, passed to the client as is."""

    body: bytes
    route: RouteDecision
    usage: Usage | None = None


class GatewayStream(msgspec.Struct, kw_only=True):
    """An answer that streams: SSE frames, ending in ``[DONE]`` or, after a failure, an error frame.

    For an operation of :data:`~routeiq_core.operations.BYTE_STREAMS` (speech), raw bytes instead.

    ``aclose`` must be awaited when the caller is done (also if it never iterated): it closes the
    upstream stream and releases the deployment's in-flight slot, once.
    """

    route: RouteDecision
    frames: AsyncIterator[bytes]
    aclose: Callable[[], Awaitable[None]]
    usage: Usage | None = None
    events: int = 0
    """How many SSE events were relayed so far (a cut stream's usage is estimated from it)."""
    first_frame: bytes | None = None
    """The stream's first frame as the upstream sent it (its answer id is read off it)."""


IMAGE_PART_TOKENS = 1_500
"""What one image part is reserved as (a high-detail image costs OpenAI's models 765 to 1,105 tokens)."""

_CHARS_PER_TOKEN = 4
_AUDIO_BYTES_PER_TOKEN = 64
"""Base64 audio reserved at a token per 64 characters: far above the real rate, and settled after."""


def estimate_prompt_tokens(operation: Operation, payload: dict[str, Any]) -> int:
    """A cheap, conservative estimate of a request's prompt tokens (reserved before the call).

    About four characters a token for every string a message carries (text, tool calls and their
    arguments, names), plus the tool and function definitions; an image part counts
    :data:`IMAGE_PART_TOKENS`, an audio part a token per 64 base64 characters, a file part its
    base64 length over four. Image generation counts its prompt, moderations their input, rerank its
    documents plus the query once per document. Iterative: any nesting depth is counted without
    recursion.
    """
    if operation is Operation.CHAT:
        messages = payload.get("messages")
        if not isinstance(messages, list):
            return 0
        tokens = 0
        for message in messages:
            if isinstance(message, dict):
                tokens += 4 + _tokens(message.get("content"))
                if len(message) > 2:  # tool calls, names, ids
                    tokens += _tokens([v for k, v in message.items() if k not in ("role", "content")])
        for key in ("tools", "functions"):
            if key in payload:
                tokens += _tokens(payload[key], keys=True)
        return tokens
    if operation is Operation.RERANK:
        documents = payload.get("documents")
        count = len(documents) if isinstance(documents, list) else 0
        return _tokens(documents) + count * _tokens(payload.get("query"))  # the query meets each document
    key = (
        "prompt" if operation in (Operation.COMPLETIONS, Operation.IMAGES, Operation.IMAGE_EDITS) else "input"
    )
    return _tokens(payload.get(key))


def _tokens(value: Any, *, keys: bool = False) -> int:
    """The token estimate of a value: its strings (and with ``keys``, its object keys), its media parts."""
    if isinstance(value, str):  # the common case: plain text content
        return len(value) // _CHARS_PER_TOKEN
    chars = media = 0
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            chars += len(item)
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            kind = item.get("type")
            if kind in ("image_url", "image", "input_image"):
                media += IMAGE_PART_TOKENS
            elif kind == "input_audio" and isinstance(audio := item.get("input_audio"), dict):
                media += len(str(audio.get("data", ""))) // _AUDIO_BYTES_PER_TOKEN
            else:
                pending.extend(item.values())
                if keys:
                    chars += sum(len(k) for k in item if isinstance(k, str))
    return chars // _CHARS_PER_TOKEN + media
