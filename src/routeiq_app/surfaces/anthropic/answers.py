"""Wire types of what the Messages API answers: a message, its stream events, token counts, errors."""

from __future__ import annotations

from typing import Any

import msgspec

from routeiq_core.sse import named_frame


class TextContent(msgspec.Struct, tag="text", tag_field="type", kw_only=True):
    """Text the model wrote."""

    text: str


class ToolUseContent(msgspec.Struct, tag="tool_use", tag_field="type", kw_only=True):
    """A tool call the model made."""

    id: str
    name: str
    input: dict[str, Any]


OutputBlock = TextContent | ToolUseContent


class MessageUsage(msgspec.Struct, kw_only=True):
    """Token counts (``input_tokens`` excludes the tokens read from a prompt cache)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


class Message(msgspec.Struct, tag="message", tag_field="type", kw_only=True):
    """The answer of ``POST /v1/messages``."""

    id: str
    model: str
    content: list[OutputBlock]
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: MessageUsage = msgspec.field(default_factory=MessageUsage)
    role: str = "assistant"


class TokensCount(msgspec.Struct, kw_only=True):
    """The answer of ``POST /v1/messages/count_tokens`` (the gateway's estimate)."""

    input_tokens: int


class AnthropicErrorDetail(msgspec.Struct, kw_only=True):
    """The inner object of an Anthropic error."""

    type: str
    message: str


class AnthropicError(msgspec.Struct, tag="error", tag_field="type", kw_only=True):
    """An Anthropic-style error: ``{"type": "error", "error": {"type", "message"}, "request_id"}``."""

    error: AnthropicErrorDetail
    request_id: str | None = None


class MessageStart(msgspec.Struct, tag="message_start", tag_field="type", kw_only=True):
    """The first event: the message without content."""

    message: Message


class ContentBlockStart(msgspec.Struct, tag="content_block_start", tag_field="type", kw_only=True):
    """A content block opens (empty text, or a tool call with an empty input)."""

    index: int
    content_block: OutputBlock


class TextDelta(msgspec.Struct, tag="text_delta", tag_field="type", kw_only=True):
    """More text of a text block."""

    text: str


class InputJsonDelta(msgspec.Struct, tag="input_json_delta", tag_field="type", kw_only=True):
    """More of a tool call's input, as a fragment of JSON text."""

    partial_json: str


class ContentBlockDelta(msgspec.Struct, tag="content_block_delta", tag_field="type", kw_only=True):
    """A piece of the open block."""

    index: int
    delta: TextDelta | InputJsonDelta


class ContentBlockStop(msgspec.Struct, tag="content_block_stop", tag_field="type", kw_only=True):
    """The open block is complete."""

    index: int


class StopInfo(msgspec.Struct, kw_only=True):
    """Why the message ended."""

    stop_reason: str | None
    stop_sequence: str | None = None


class DeltaUsage(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The final usage (cumulative; ``input_tokens`` only when the upstream reported it)."""

    output_tokens: int
    input_tokens: int | None = None
    cache_read_input_tokens: int | None = None


class MessageDelta(msgspec.Struct, tag="message_delta", tag_field="type", kw_only=True):
    """The stop reason and the output usage, after the last block."""

    delta: StopInfo
    usage: DeltaUsage


class MessageStop(msgspec.Struct, tag="message_stop", tag_field="type", kw_only=True):
    """The last event."""


StreamEvent = (
    MessageStart | ContentBlockStart | ContentBlockDelta | ContentBlockStop | MessageDelta | MessageStop
)


def event_frame(event: StreamEvent | AnthropicError) -> bytes:
    """One named SSE event, as Anthropic writes them: ``event: <type>`` then its JSON ``data``."""
    name = type(event).__struct_config__.tag
    return named_frame(str(name), msgspec.json.encode(event))
