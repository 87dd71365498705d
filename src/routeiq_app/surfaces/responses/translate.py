"""Responses ⇄ chat completions: the request (with the stored conversation) into chat, the answer back.

The request: ``instructions`` become the system message; the conversation's items, in order, chat
messages — ``developer``/``system`` messages system messages, ``input_text`` and ``input_image``
parts chat's ``text`` and ``image_url`` parts, an assistant's ``output_text`` its content,
``function_call`` items the assistant's ``tool_calls`` (consecutive ones in one message), and
``function_call_output`` items ``tool`` messages. Function tools, ``tool_choice``,
``parallel_tool_calls``, ``text.format`` (``response_format``), ``temperature``, ``top_p``,
``max_output_tokens`` (``max_tokens``), ``user`` and ``reasoning.effort`` (``reasoning_effort``)
map to their chat fields; ``metadata`` stays with the response.

The answer: the assistant's text as a ``message`` item with one ``output_text`` part, each tool call
a ``function_call`` item (its id the ``call_id``), usage as input/output/total tokens, and a
response cut by ``length`` ``incomplete`` (``max_output_tokens``). The stream: :mod:`.stream`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any, Literal

from routeiq_app.surfaces.anthropic.chat import COMPLETION, ChatUsage
from routeiq_app.surfaces.responses.answers import (
    FunctionCall,
    IncompleteDetails,
    InputTokensDetails,
    OutputItem,
    OutputMessage,
    OutputTextPart,
    Response,
    ResponseUsage,
    Status,
)
from routeiq_app.surfaces.responses.wire import (
    FunctionCallItem,
    FunctionCallOutputItem,
    FunctionChoice,
    InputImage,
    InputItem,
    InputText,
    JsonObjectFormat,
    JsonSchemaFormat,
    MessageItem,
    OutputText,
    Refusal,
    ResponsesRequest,
)
from routeiq_core.errors import UpstreamError


def new_id(prefix: str) -> str:
    """A fresh id such as ``resp_<32 hex>`` (``msg``, ``fc`` for output items)."""
    return f"{prefix}_{uuid.uuid4().hex}"


def request_items(request: ResponsesRequest) -> list[InputItem]:
    """The request's own input as items (a string input is one user message)."""
    if isinstance(request.input, str):
        return [MessageItem(role="user", content=request.input)] if request.input else []
    return list(request.input)


def to_chat(request: ResponsesRequest, items: Sequence[InputItem]) -> dict[str, Any]:
    """The chat completions payload asking what ``request`` asks; ``items`` are the whole conversation."""
    messages: list[dict[str, Any]] = []
    if request.instructions:
        messages.append({"role": "system", "content": request.instructions})
    messages += chat_messages(items)
    payload: dict[str, Any] = {"model": request.model, "messages": messages}
    if request.tools:
        payload["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "parameters": t.parameters
                    if t.parameters is not None
                    else {"type": "object", "properties": {}},
                    **({"description": t.description} if t.description is not None else {}),
                    **({"strict": t.strict} if t.strict is not None else {}),
                },
            }
            for t in request.tools
        ]
        payload["parallel_tool_calls"] = request.parallel_tool_calls
        choice = request.tool_choice
        payload["tool_choice"] = (
            {"type": "function", "function": {"name": choice.name}}
            if isinstance(choice, FunctionChoice)
            else choice
        )
    _options(request, payload)
    return payload


def _options(request: ResponsesRequest, payload: dict[str, Any]) -> None:
    fmt = request.text.format
    if isinstance(fmt, JsonSchemaFormat):
        schema: dict[str, Any] = {"name": fmt.name, "schema": fmt.schema}
        if fmt.description is not None:
            schema["description"] = fmt.description
        if fmt.strict is not None:
            schema["strict"] = fmt.strict
        payload["response_format"] = {"type": "json_schema", "json_schema": schema}
    elif isinstance(fmt, JsonObjectFormat):
        payload["response_format"] = {"type": "json_object"}
    for name, value in (
        ("temperature", request.temperature),
        ("top_p", request.top_p),
        ("max_tokens", request.max_output_tokens),
        ("user", request.user),
        ("reasoning_effort", request.reasoning.effort if request.reasoning is not None else None),
    ):
        if value is not None:
            payload[name] = value
    if request.stream:
        payload["stream"] = True


def chat_messages(items: Sequence[InputItem]) -> list[dict[str, Any]]:
    """The chat messages of a conversation's items, in order."""
    messages: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, MessageItem):
            messages.append(_message(item))
        elif isinstance(item, FunctionCallItem):
            call = {
                "id": item.call_id,
                "type": "function",
                "function": {"name": item.name, "arguments": item.arguments},
            }
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant":
                last.setdefault("tool_calls", []).append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        else:
            messages += _tool_result(item)
    return messages


def _message(item: MessageItem) -> dict[str, Any]:
    role = "system" if item.role in ("system", "developer") else item.role
    if isinstance(item.content, str):
        return {"role": role, "content": item.content}
    if role != "user":  # system and assistant content is text
        return {"role": role, "content": "".join(_text(part) for part in item.content)}
    return {"role": role, "content": [_part(part) for part in item.content]}


def _text(part: InputText | InputImage | OutputText | Refusal) -> str:
    if isinstance(part, Refusal):
        return part.refusal
    return part.text if isinstance(part, InputText | OutputText) else ""


def _part(part: InputText | InputImage | OutputText | Refusal) -> dict[str, Any]:
    if isinstance(part, InputImage):
        return {"type": "image_url", "image_url": {"url": part.image_url, "detail": part.detail}}
    return {"type": "text", "text": _text(part)}


def _tool_result(item: FunctionCallOutputItem) -> list[dict[str, Any]]:
    """A ``tool`` message (text only); images of the result follow in a user message."""
    if isinstance(item.output, str):
        return [{"role": "tool", "tool_call_id": item.call_id, "content": item.output}]
    text = "".join(p.text for p in item.output if isinstance(p, InputText))
    images = [_part(p) for p in item.output if isinstance(p, InputImage)]
    tool = {"role": "tool", "tool_call_id": item.call_id, "content": text}
    return [tool, {"role": "user", "content": images}] if images else [tool]


def as_input(output: Sequence[OutputItem]) -> list[InputItem]:
    """A response's output items as the input items that continue the conversation."""
    items: list[InputItem] = []
    for item in output:
        if isinstance(item, OutputMessage):
            parts: list[InputText | InputImage | OutputText | Refusal] = [
                OutputText(text=p.text) for p in item.content
            ]
            items.append(MessageItem(role="assistant", content=parts, id=item.id, status=item.status))
        else:
            items.append(
                FunctionCallItem(call_id=item.call_id, name=item.name, arguments=item.arguments, id=item.id)
            )
    return items


def usage(reported: ChatUsage | None) -> ResponseUsage | None:
    """Chat usage as Responses usage."""
    if reported is None:
        return None
    cached = reported.prompt_tokens_details.cached_tokens if reported.prompt_tokens_details else None
    return ResponseUsage(
        input_tokens=reported.prompt_tokens,
        output_tokens=reported.completion_tokens,
        total_tokens=reported.prompt_tokens + reported.completion_tokens,
        input_tokens_details=InputTokensDetails(cached_tokens=cached or 0),
    )


def response_shell(request: ResponsesRequest, response_id: str, status: Status) -> Response:
    """The response object for ``request`` before any output (what ``response.created`` carries)."""
    return Response(
        id=response_id,
        created_at=int(time.time()),
        model=request.model,
        status=status,
        instructions=request.instructions,
        metadata=dict(request.metadata or {}),
        parallel_tool_calls=request.parallel_tool_calls,
        temperature=request.temperature,
        top_p=request.top_p,
        max_output_tokens=request.max_output_tokens,
        tool_choice=request.tool_choice,
        tools=list(request.tools),
        text=request.text,
        reasoning=request.reasoning,
        previous_response_id=request.previous_response_id,
        store=request.store,
        user=request.user,
    )


def finish(response: Response, finish_reason: str | None) -> None:
    """Set the final status from the chat finish reason (``length``: incomplete)."""
    if finish_reason == "length":
        response.status = "incomplete"
        response.incomplete_details = IncompleteDetails(reason="max_output_tokens")
    elif finish_reason == "content_filter":
        response.status = "incomplete"
        response.incomplete_details = IncompleteDetails(reason="content_filter")
    else:
        response.status = "completed"
    item_status: Literal["incomplete", "completed"] = (
        "incomplete" if response.status == "incomplete" else "completed"
    )
    for item in response.output:
        item.status = item_status


def to_response(body: bytes, request: ResponsesRequest, response_id: str) -> Response:
    """The response object of a chat completion's JSON ``body``.

    Raises:
        UpstreamError: the body is not a chat completion with a choice.
    """
    completion = COMPLETION.decode(body)
    if not completion.choices:
        raise UpstreamError("The upstream answered a chat completion without choices.")
    choice = completion.choices[0]
    response = response_shell(request, response_id, "completed")
    if completion.model:
        response.model = completion.model
    message = choice.message
    text = message.content if isinstance(message.content, str) else _parts_text(message.content)
    if text:
        part = OutputTextPart(text=text)
        response.output.append(OutputMessage(id=new_id("msg"), status="completed", content=[part]))
    for call in message.tool_calls or ():
        response.output.append(
            FunctionCall(
                id=new_id("fc"),
                call_id=call.id or new_id("call"),
                name=call.function.name,
                arguments=call.function.arguments or "",
            )
        )
    response.usage = usage(completion.usage)
    finish(response, choice.finish_reason)
    return response


def _parts_text(parts: list[Any] | None) -> str:
    return "".join(p.get("text", "") for p in parts or () if isinstance(p, dict) and p.get("type") == "text")
