"""Wire types of Anthropic's Messages API requests: every field the surface translates, bounded.

Unknown fields (``cache_control``, ``citations``, ``thinking``, ``service_tier``, ...) are ignored: the
translation to chat has no place for them. Unknown content block types and server tools are refused
with a 400 naming the field, rather than dropped silently.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

ModelName = Annotated[str, Meta(min_length=1, max_length=256)]
ToolName = Annotated[str, Meta(pattern=r"^[a-zA-Z0-9_-]{1,128}$")]
ToolId = Annotated[str, Meta(min_length=1, max_length=256)]
Label = Annotated[str, Meta(max_length=256)]
StopSequences = Annotated[list[Annotated[str, Meta(min_length=1, max_length=1024)]], Meta(max_length=64)]
ImageMediaType = Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
MAX_BLOCKS = 10_000
"""Most content blocks one message may carry."""


class TextBlock(msgspec.Struct, tag="text", tag_field="type", kw_only=True):
    """A text block."""

    text: str


class Base64Source(msgspec.Struct, tag="base64", tag_field="type", kw_only=True):
    """An image sent inline."""

    media_type: ImageMediaType
    data: Annotated[str, Meta(min_length=1)]


class UrlSource(msgspec.Struct, tag="url", tag_field="type", kw_only=True):
    """An image by URL (fetched by the upstream, never by the gateway)."""

    url: Annotated[str, Meta(min_length=1, max_length=8192)]


class ImageBlock(msgspec.Struct, tag="image", tag_field="type", kw_only=True):
    """An image block."""

    source: Base64Source | UrlSource


class ToolUseBlock(msgspec.Struct, tag="tool_use", tag_field="type", kw_only=True):
    """A tool call the assistant made (sent back in the conversation)."""

    id: ToolId
    name: ToolName
    input: dict[str, Any]


class ToolResultBlock(msgspec.Struct, tag="tool_result", tag_field="type", kw_only=True):
    """A tool's result, in the user turn after the call."""

    tool_use_id: ToolId
    content: str | Annotated[list[TextBlock | ImageBlock], Meta(max_length=MAX_BLOCKS)] = ""
    is_error: bool = False


class ThinkingBlock(msgspec.Struct, tag="thinking", tag_field="type", kw_only=True):
    """Extended thinking of an earlier assistant turn (dropped in translation)."""

    thinking: str = ""
    signature: str = ""


class RedactedThinkingBlock(msgspec.Struct, tag="redacted_thinking", tag_field="type", kw_only=True):
    """Encrypted thinking of an earlier assistant turn (dropped in translation)."""

    data: str = ""


ContentBlock = TextBlock | ImageBlock | ToolUseBlock | ToolResultBlock | ThinkingBlock | RedactedThinkingBlock


class MessageParam(msgspec.Struct, kw_only=True):
    """One turn of the conversation."""

    role: Literal["user", "assistant"]
    content: str | Annotated[list[ContentBlock], Meta(max_length=MAX_BLOCKS)]


class Tool(msgspec.Struct, kw_only=True):
    """A client tool (server tools, which Anthropic runs itself, cannot be translated)."""

    name: ToolName
    input_schema: dict[str, Any]
    description: Annotated[str, Meta(max_length=100_000)] | None = None
    type: Literal["custom"] | None = None


class ToolChoiceAuto(msgspec.Struct, tag="auto", tag_field="type", kw_only=True):
    """The model decides."""

    disable_parallel_tool_use: bool = False


class ToolChoiceAny(msgspec.Struct, tag="any", tag_field="type", kw_only=True):
    """The model must call some tool."""

    disable_parallel_tool_use: bool = False


class ToolChoiceTool(msgspec.Struct, tag="tool", tag_field="type", kw_only=True):
    """The model must call this tool."""

    name: ToolName
    disable_parallel_tool_use: bool = False


class ToolChoiceNone(msgspec.Struct, tag="none", tag_field="type", kw_only=True):
    """The model may not call tools."""


ToolChoice = ToolChoiceAuto | ToolChoiceAny | ToolChoiceTool | ToolChoiceNone


class Metadata(msgspec.Struct, kw_only=True):
    """Request metadata: the end user's id."""

    user_id: Label | None = None


class Conversation(msgspec.Struct, kw_only=True):
    """What a Messages request and a token count share."""

    model: ModelName
    messages: Annotated[list[MessageParam], Meta(min_length=1, max_length=100_000)]
    system: str | Annotated[list[TextBlock], Meta(max_length=MAX_BLOCKS)] | None = None
    tools: Annotated[list[Tool], Meta(max_length=512)] | None = None
    tool_choice: ToolChoice | None = None


class MessagesRequest(Conversation, kw_only=True):
    """``POST /v1/messages``."""

    max_tokens: Annotated[int, Meta(ge=1, le=1_000_000)]
    stop_sequences: StopSequences = msgspec.field(default_factory=list)
    temperature: Annotated[float, Meta(ge=0, le=1)] | None = None
    top_p: Annotated[float, Meta(ge=0, le=1)] | None = None
    top_k: Annotated[int, Meta(ge=0, le=1_000_000)] | None = None
    stream: bool = False
    metadata: Metadata | None = None


class CountTokensRequest(Conversation, kw_only=True):
    """``POST /v1/messages/count_tokens``."""
