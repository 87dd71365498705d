"""Wire types of the OpenAI-compatible API: validation of what the gateway needs to know.

Only the fields the gateway reads or must check are modelled; every other field of the client's
body (tools, response_format, logprobs, ...) is forwarded to the upstream untouched.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta


class StreamOptions(msgspec.Struct, kw_only=True):
    """``stream_options`` of a streaming request."""

    include_usage: bool = False


class ChatMessage(msgspec.Struct, kw_only=True):
    """One chat message (content may be text, parts, or absent for tool calls)."""

    role: str
    content: str | list[Any] | None = None


class StreamableRequest(msgspec.Struct, kw_only=True):
    """What chat and completions requests share (both can stream)."""

    model: Annotated[str, Meta(min_length=1)]
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: Annotated[int, Meta(ge=1)] | None = None
    temperature: Annotated[float, Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, Meta(ge=0, le=1)] | None = None
    n: Annotated[int, Meta(ge=1, le=128)] | None = None


class ChatCompletionRequest(StreamableRequest, kw_only=True):
    """``POST /v1/chat/completions``."""

    messages: Annotated[list[ChatMessage], Meta(min_length=1)]
    max_completion_tokens: Annotated[int, Meta(ge=1)] | None = None


class CompletionRequest(StreamableRequest, kw_only=True):
    """``POST /v1/completions``."""

    prompt: str | list[Any]


class EmbeddingRequest(msgspec.Struct, kw_only=True):
    """``POST /v1/embeddings``."""

    model: Annotated[str, Meta(min_length=1)]
    input: str | list[Any]
    encoding_format: str | None = None


class ModelCard(msgspec.Struct, kw_only=True):
    """One entry of ``GET /v1/models``."""

    id: str
    created: int
    object: str = "model"
    owned_by: str = "routeiq"


class ModelList(msgspec.Struct, kw_only=True):
    """``GET /v1/models``."""

    data: list[ModelCard]
    object: str = "list"
