"""Wire types of what the Responses API answers: a response, its output items, stream events, lists."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from routeiq_app.surfaces.responses.wire import FunctionTool, InputItem, Reasoning, TextConfig, ToolChoice

Status = Literal["completed", "failed", "in_progress", "cancelled", "queued", "incomplete"]


class OutputTextPart(msgspec.Struct, tag="output_text", tag_field="type", kw_only=True):
    """Text the model wrote."""

    text: str
    annotations: list[Any] = msgspec.field(default_factory=list)
    logprobs: list[Any] = msgspec.field(default_factory=list)


class OutputMessage(msgspec.Struct, tag="message", tag_field="type", kw_only=True):
    """The model's message."""

    id: str
    status: Literal["in_progress", "completed", "incomplete"]
    content: list[OutputTextPart]
    role: Literal["assistant"] = "assistant"


class FunctionCall(msgspec.Struct, tag="function_call", tag_field="type", kw_only=True):
    """A function call the model made; answer it with a ``function_call_output`` item."""

    id: str
    call_id: str
    name: str
    arguments: str
    status: Literal["in_progress", "completed", "incomplete"] = "completed"


OutputItem = OutputMessage | FunctionCall


class InputTokensDetails(msgspec.Struct, kw_only=True):
    """``usage.input_tokens_details``."""

    cached_tokens: int = 0


class OutputTokensDetails(msgspec.Struct, kw_only=True):
    """``usage.output_tokens_details``."""

    reasoning_tokens: int = 0


class ResponseUsage(msgspec.Struct, kw_only=True):
    """Token counts."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    input_tokens_details: InputTokensDetails = msgspec.field(default_factory=InputTokensDetails)
    output_tokens_details: OutputTokensDetails = msgspec.field(default_factory=OutputTokensDetails)


class IncompleteDetails(msgspec.Struct, kw_only=True):
    """Why a response is incomplete."""

    reason: Literal["max_output_tokens", "content_filter"]


class ResponseError(msgspec.Struct, kw_only=True):
    """Why a response failed."""

    code: str
    message: str


class Response(msgspec.Struct, kw_only=True, omit_defaults=False):
    """A response object (``object: response``)."""

    id: str
    created_at: int
    model: str
    status: Status
    output: list[OutputItem] = msgspec.field(default_factory=list)
    object: Literal["response"] = "response"
    error: ResponseError | None = None
    incomplete_details: IncompleteDetails | None = None
    instructions: str | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    parallel_tool_calls: bool = True
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    tool_choice: ToolChoice = "auto"
    tools: list[FunctionTool] = msgspec.field(default_factory=list)
    text: TextConfig = msgspec.field(default_factory=TextConfig)
    reasoning: Reasoning | None = None
    previous_response_id: str | None = None
    store: bool = True
    background: bool = False
    usage: ResponseUsage | None = None
    user: str | None = None


class DeletedResponse(msgspec.Struct, kw_only=True):
    """The answer of ``DELETE /v1/responses/{id}``."""

    id: str
    object: Literal["response"] = "response"
    deleted: bool = True


class InputItemList(msgspec.Struct, kw_only=True):
    """A page of a response's input items (``GET /v1/responses/{id}/input_items``)."""

    data: list[InputItem]
    first_id: str | None
    last_id: str | None
    has_more: bool
    object: Literal["list"] = "list"


class StreamEvent(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One typed SSE event; the fields its type does not have stay unset (and are not written)."""

    type: str
    sequence_number: int
    response: Response | None = None
    output_index: int | None = None
    content_index: int | None = None
    item_id: str | None = None
    item: OutputItem | None = None
    part: OutputTextPart | None = None
    delta: str | None = None
    text: str | None = None
    arguments: str | None = None
    logprobs: list[Any] | None = None
    code: str | None = None
    message: str | None = None
    param: str | None = None
