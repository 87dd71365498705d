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


class Usage(msgspec.Struct, kw_only=True):
    """Token counts of an answer."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatChoice(msgspec.Struct, kw_only=True):
    """One choice of a chat completion."""

    index: int
    message: ChatMessage
    finish_reason: str | None = None


class ChatCompletion(msgspec.Struct, kw_only=True):
    """The answer of ``POST /v1/chat/completions`` (the upstream's, passed through)."""

    id: str
    object: str = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage | None = None


class CompletionChoice(msgspec.Struct, kw_only=True):
    """One choice of a text completion."""

    index: int
    text: str
    finish_reason: str | None = None


class Completion(msgspec.Struct, kw_only=True):
    """The answer of ``POST /v1/completions``."""

    id: str
    object: str = "text_completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage | None = None


class Embedding(msgspec.Struct, kw_only=True):
    """One embedding (a list of floats, or base64 with ``encoding_format: base64``)."""

    index: int
    embedding: list[float] | str
    object: str = "embedding"


class EmbeddingList(msgspec.Struct, kw_only=True):
    """The answer of ``POST /v1/embeddings``."""

    data: list[Embedding]
    model: str
    object: str = "list"
    usage: Usage | None = None
