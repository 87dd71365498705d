"""What the translation reads of OpenAI chat answers and stream chunks (every other field is ignored)."""

from __future__ import annotations

from typing import Any

import msgspec


class Function(msgspec.Struct, kw_only=True):
    """A tool call's function: its name and JSON arguments."""

    name: str = ""
    arguments: str | None = None


class ToolCall(msgspec.Struct, kw_only=True):
    """One tool call of an answer."""

    id: str | None = None
    function: Function = msgspec.field(default_factory=Function)


class ChatMessage(msgspec.Struct, kw_only=True):
    """The assistant message of a choice (content is text, or parts on some servers)."""

    content: str | list[Any] | None = None
    tool_calls: list[ToolCall] | None = None


class Choice(msgspec.Struct, kw_only=True):
    """A choice of a chat completion."""

    message: ChatMessage = msgspec.field(default_factory=ChatMessage)
    finish_reason: str | None = None
    stop_reason: str | int | None = None
    """vLLM's extension: the stop sequence that matched."""


class PromptDetails(msgspec.Struct, kw_only=True):
    """``usage.prompt_tokens_details``."""

    cached_tokens: int | None = None


class ChatUsage(msgspec.Struct, kw_only=True):
    """An OpenAI usage object."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    prompt_tokens_details: PromptDetails | None = None


class ChatCompletion(msgspec.Struct, kw_only=True):
    """A chat completion."""

    id: str | None = None
    model: str = ""
    choices: list[Choice] = msgspec.field(default_factory=list)
    usage: ChatUsage | None = None


class FunctionDelta(msgspec.Struct, kw_only=True):
    """A fragment of a streamed tool call's function (the name comes first, once)."""

    name: str | None = None
    arguments: str | None = None


class ToolCallDelta(msgspec.Struct, kw_only=True):
    """A fragment of a streamed tool call, keyed by ``index``."""

    index: int = 0
    id: str | None = None
    function: FunctionDelta | None = None


class Delta(msgspec.Struct, kw_only=True):
    """What a chunk adds to the message."""

    content: str | None = None
    tool_calls: list[ToolCallDelta] | None = None


class ChunkChoice(msgspec.Struct, kw_only=True):
    """A choice of a stream chunk."""

    index: int = 0
    delta: Delta = msgspec.field(default_factory=Delta)
    finish_reason: str | None = None
    stop_reason: str | int | None = None


class ChunkError(msgspec.Struct, kw_only=True):
    """The error of a stream's error frame (``{"error": {...}}``)."""

    message: str = "The upstream stream failed."
    type: str | None = None


class ChatChunk(msgspec.Struct, kw_only=True):
    """One event of a chat stream: a chunk, a usage-only chunk, or an error frame."""

    id: str | None = None
    model: str | None = None
    choices: list[ChunkChoice] = msgspec.field(default_factory=list)
    usage: ChatUsage | None = None
    error: ChunkError | None = None


COMPLETION = msgspec.json.Decoder(ChatCompletion)
CHUNK = msgspec.json.Decoder(ChatChunk)
