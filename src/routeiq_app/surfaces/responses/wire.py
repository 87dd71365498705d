"""Wire types of Responses API requests: every field the translation to chat uses, bounded.

Message items may omit ``type`` (OpenAI's "easy" input messages); :func:`normalized` adds it before
validation. Tools other than function tools, and input items the translation has no place for
(reasoning, web search, file inputs, ...), are refused with a 400 naming them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from routeiq_core.errors import InvalidRequestError

ModelName = Annotated[str, Meta(min_length=1, max_length=256)]
ToolName = Annotated[str, Meta(pattern=r"^[a-zA-Z0-9_.-]{1,128}$")]
CallId = Annotated[str, Meta(min_length=1, max_length=256)]
ItemId = Annotated[str, Meta(max_length=256)]
ResponseId = Annotated[str, Meta(min_length=1, max_length=128)]
Label = Annotated[str, Meta(max_length=512)]
MAX_ITEMS = 10_000
"""Most input items (or content parts of one message) a request may carry."""
MAX_TOOLS = 512
ItemStatus = Literal["in_progress", "completed", "incomplete"]


class InputText(msgspec.Struct, tag="input_text", tag_field="type", kw_only=True):
    """Text the user (or system) wrote."""

    text: str


class InputImage(msgspec.Struct, tag="input_image", tag_field="type", kw_only=True):
    """An image by URL or data URL (fetched by the upstream, never by the gateway)."""

    image_url: Annotated[str, Meta(min_length=1)]
    detail: Literal["low", "high", "auto"] = "auto"


class OutputText(msgspec.Struct, tag="output_text", tag_field="type", kw_only=True):
    """Text an earlier assistant turn wrote (sent back in the conversation)."""

    text: str
    annotations: list[Any] = msgspec.field(default_factory=list)


class Refusal(msgspec.Struct, tag="refusal", tag_field="type", kw_only=True):
    """A refusal of an earlier assistant turn."""

    refusal: str


ContentPart = InputText | InputImage | OutputText | Refusal


class MessageItem(msgspec.Struct, tag="message", tag_field="type", kw_only=True):
    """A message of the conversation."""

    role: Literal["user", "assistant", "system", "developer"]
    content: str | Annotated[list[ContentPart], Meta(max_length=MAX_ITEMS)]
    id: ItemId | None = None
    status: ItemStatus | None = None


class FunctionCallItem(msgspec.Struct, tag="function_call", tag_field="type", kw_only=True):
    """A function call an earlier turn made."""

    call_id: CallId
    name: ToolName
    arguments: str
    id: ItemId | None = None
    status: ItemStatus | None = None


class FunctionCallOutputItem(msgspec.Struct, tag="function_call_output", tag_field="type", kw_only=True):
    """A function's result, answering the call with ``call_id``."""

    call_id: CallId
    output: str | Annotated[list[InputText | InputImage], Meta(max_length=MAX_ITEMS)]
    id: ItemId | None = None
    status: ItemStatus | None = None


InputItem = MessageItem | FunctionCallItem | FunctionCallOutputItem


class FunctionTool(msgspec.Struct, tag="function", tag_field="type", kw_only=True):
    """A function the model may call."""

    name: ToolName
    parameters: dict[str, Any] | None = None
    description: Annotated[str, Meta(max_length=100_000)] | None = None
    strict: bool | None = None


class FunctionChoice(msgspec.Struct, tag="function", tag_field="type", kw_only=True):
    """``tool_choice`` naming one function."""

    name: ToolName


ToolChoice = Literal["none", "auto", "required"] | FunctionChoice


class TextFormat(msgspec.Struct, tag="text", tag_field="type", kw_only=True):
    """Plain text output."""


class JsonSchemaFormat(msgspec.Struct, tag="json_schema", tag_field="type", kw_only=True):
    """Output that follows a JSON schema."""

    name: Annotated[str, Meta(pattern=r"^[a-zA-Z0-9_-]{1,64}$")]
    schema: dict[str, Any]
    description: Annotated[str, Meta(max_length=100_000)] | None = None
    strict: bool | None = None


class JsonObjectFormat(msgspec.Struct, tag="json_object", tag_field="type", kw_only=True):
    """Output that is some JSON object."""


class TextConfig(msgspec.Struct, kw_only=True):
    """``text``: the output's format (``verbosity`` is accepted and not translated)."""

    format: TextFormat | JsonSchemaFormat | JsonObjectFormat = msgspec.field(default_factory=TextFormat)
    verbosity: Literal["low", "medium", "high"] | None = None


class Reasoning(msgspec.Struct, kw_only=True):
    """``reasoning``: the effort is passed on as chat's ``reasoning_effort``; summaries are not made."""

    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None


class ResponsesRequest(msgspec.Struct, kw_only=True):
    """The body of ``POST /v1/responses``."""

    model: ModelName
    input: str | Annotated[list[InputItem], Meta(max_length=MAX_ITEMS)] = ""
    instructions: str | None = None
    tools: Annotated[list[FunctionTool], Meta(max_length=MAX_TOOLS)] = msgspec.field(default_factory=list)
    tool_choice: ToolChoice = "auto"
    parallel_tool_calls: bool = True
    text: TextConfig = msgspec.field(default_factory=TextConfig)
    temperature: Annotated[float, Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, Meta(ge=0, le=1)] | None = None
    max_output_tokens: Annotated[int, Meta(ge=1, le=1_000_000)] | None = None
    stream: bool = False
    store: bool = True
    previous_response_id: ResponseId | None = None
    metadata: Annotated[dict[Annotated[str, Meta(max_length=64)], Label], Meta(max_length=16)] | None = None
    user: Label | None = None
    reasoning: Reasoning | None = None
    background: Literal[False] = False


def normalized(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with ``type: message`` on input messages that omit it, and unsupported tools refused.

    Raises:
        InvalidRequestError: a tool that is not a function tool, named by its type.
    """
    items = body.get("input")
    if isinstance(items, list):
        body["input"] = [
            {**item, "type": "message"}
            if isinstance(item, dict) and "type" not in item and "role" in item
            else item
            for item in items
        ]
    tools = body.get("tools")
    if isinstance(tools, list):
        for i, tool in enumerate(tools):
            kind = tool.get("type") if isinstance(tool, dict) else None
            if kind != "function":
                raise InvalidRequestError(
                    f"Tool type {kind!r} (tools[{i}]) is not supported: RouteIQ translates Responses calls "
                    "to chat completions, which take function tools only.",
                    param=f"tools[{i}].type",
                    code="unsupported_tool_type",
                )
    return body
