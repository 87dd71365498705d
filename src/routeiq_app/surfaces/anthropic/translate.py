"""Anthropic Messages ⇄ OpenAI chat: the request into the gateway's canonical shape, the answer back.

The request: ``system`` becomes the system message, content blocks chat parts (base64 images data
URLs), ``tool_use`` blocks the assistant's ``tool_calls``, ``tool_result`` blocks ``tool`` messages
(images in a result follow in a user message: tool messages carry text only), ``tool_choice``
OpenAI's (``any`` is ``required``), ``stop_sequences`` ``stop``, ``metadata.user_id`` ``user``.
Thinking blocks are dropped (a chat model cannot take them back); so is ``top_k`` (chat has none).

The answer: text and ``tool_use`` blocks (arguments parsed as JSON), the stop reason from the
finish reason, usage as input/output tokens. The stream: :mod:`.stream`.
"""

from __future__ import annotations

import json
import uuid
from types import MappingProxyType
from typing import Any

import msgspec

from routeiq_app.surfaces.anthropic.answers import (
    Message,
    MessageUsage,
    OutputBlock,
    TextContent,
    ToolUseContent,
)
from routeiq_app.surfaces.anthropic.chat import COMPLETION, ChatUsage, Choice
from routeiq_app.surfaces.anthropic.wire import (
    Base64Source,
    Conversation,
    ImageBlock,
    MessageParam,
    MessagesRequest,
    TextBlock,
    ToolChoice,
    ToolChoiceAny,
    ToolChoiceAuto,
    ToolChoiceNone,
    ToolResultBlock,
    ToolUseBlock,
)
from routeiq_core.errors import InvalidRequestError, UpstreamError

TOOL_ERROR_PREFIX = "Error: "
"""Put before a failed tool's result (chat has no ``is_error``)."""
BLOCK_SEPARATOR = "\n\n"
"""Joins the text blocks of a system prompt or an assistant turn (chat takes one string)."""
STOP_REASONS = MappingProxyType(
    {
        "stop": "end_turn",
        "length": "max_tokens",
        "tool_calls": "tool_use",
        "function_call": "tool_use",
        "content_filter": "refusal",
    }
)
"""OpenAI finish reasons as Anthropic stop reasons (anything else: ``end_turn``)."""


def to_chat(request: Conversation) -> dict[str, Any]:
    """The chat completions payload that asks what ``request`` asks."""
    messages: list[dict[str, Any]] = []
    system = request.system
    if system:
        text = system if isinstance(system, str) else BLOCK_SEPARATOR.join(b.text for b in system)
        messages.append({"role": "system", "content": text})
    for i, message in enumerate(request.messages):
        messages += _user(message, i) if message.role == "user" else [_assistant(message, i)]
    payload: dict[str, Any] = {"model": request.model, "messages": messages}
    if request.tools:
        payload["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "parameters": t.input_schema,
                    **({"description": t.description} if t.description is not None else {}),
                },
            }
            for t in request.tools
        ]
        if request.tool_choice is not None:
            payload.update(_tool_choice(request.tool_choice))
    if isinstance(request, MessagesRequest):
        _sampling(request, payload)
    return payload


def _sampling(request: MessagesRequest, payload: dict[str, Any]) -> None:
    payload["max_tokens"] = request.max_tokens
    if request.stop_sequences:
        payload["stop"] = list(request.stop_sequences)
    if request.temperature is not None:
        payload["temperature"] = request.temperature
    if request.top_p is not None:
        payload["top_p"] = request.top_p
    if request.metadata is not None and request.metadata.user_id:
        payload["user"] = request.metadata.user_id
    if request.stream:
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}


def _tool_choice(choice: ToolChoice) -> dict[str, Any]:
    if isinstance(choice, ToolChoiceNone):
        return {"tool_choice": "none"}
    if isinstance(choice, ToolChoiceAuto):
        mapped: Any = "auto"
    elif isinstance(choice, ToolChoiceAny):
        mapped = "required"
    else:
        mapped = {"type": "function", "function": {"name": choice.name}}
    parallel = {"parallel_tool_calls": False} if choice.disable_parallel_tool_use else {}
    return {"tool_choice": mapped, **parallel}


def _misplaced(kind: str, role: str, index: int) -> InvalidRequestError:
    return InvalidRequestError(
        f"messages[{index}]: a {kind} block cannot be in a {role} message.", param=f"messages.{index}.content"
    )


def _image(block: ImageBlock) -> dict[str, Any]:
    source = block.source
    url = f"data:{source.media_type};base64,{source.data}" if isinstance(source, Base64Source) else source.url
    return {"type": "image_url", "image_url": {"url": url}}


def _user(message: MessageParam, index: int) -> list[dict[str, Any]]:
    """A user turn: its tool results as ``tool`` messages first, then the rest as one user message."""
    if isinstance(message.content, str):
        return [{"role": "user", "content": message.content}]
    tools: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in message.content:
        if isinstance(block, TextBlock):
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            parts.append(_image(block))
        elif isinstance(block, ToolResultBlock):
            text, images = _tool_result(block)
            tools.append({"role": "tool", "tool_call_id": block.tool_use_id, "content": text})
            parts += images
        elif isinstance(block, ToolUseBlock):
            raise _misplaced("tool_use", "user", index)
        # thinking blocks carry nothing a chat model can take back
    if not parts:
        return tools or [{"role": "user", "content": ""}]  # a turn of thinking only still takes its turn
    if len(parts) == 1 and parts[0]["type"] == "text":
        return [*tools, {"role": "user", "content": parts[0]["text"]}]
    return [*tools, {"role": "user", "content": parts}]


def _tool_result(block: ToolResultBlock) -> tuple[str, list[dict[str, Any]]]:
    content = block.content
    if isinstance(content, str):
        text, images = content, []
    else:
        text = BLOCK_SEPARATOR.join(b.text for b in content if isinstance(b, TextBlock))
        images = [_image(b) for b in content if isinstance(b, ImageBlock)]
    return (TOOL_ERROR_PREFIX + text if block.is_error else text), images


def _assistant(message: MessageParam, index: int) -> dict[str, Any]:
    if isinstance(message.content, str):
        return {"role": "assistant", "content": message.content}
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in message.content:
        if isinstance(block, TextBlock):
            texts.append(block.text)
        elif isinstance(block, ToolUseBlock):
            arguments = msgspec.json.encode(block.input).decode()
            calls.append(
                {"id": block.id, "type": "function", "function": {"name": block.name, "arguments": arguments}}
            )
        elif isinstance(block, ImageBlock | ToolResultBlock):
            raise _misplaced(
                "tool_result" if isinstance(block, ToolResultBlock) else "image", "assistant", index
            )
    out: dict[str, Any] = {"role": "assistant", "content": BLOCK_SEPARATOR.join(texts) if texts else None}
    if calls:
        out["tool_calls"] = calls
    elif out["content"] is None:
        out["content"] = ""
    return out


def to_message(body: bytes, *, model: str, stop_sequences: list[str]) -> Message:
    """The Messages answer for a chat completion's JSON (``model``: when the upstream names none).

    Raises:
        UpstreamError: 502 when ``body`` is not a chat completion.
    """
    try:
        completion = COMPLETION.decode(body)
    except msgspec.DecodeError as exc:
        raise UpstreamError(f"The upstream's answer is not a chat completion: {exc}") from None
    choice = completion.choices[0] if completion.choices else Choice()
    content: list[OutputBlock] = []
    text = _text(choice.message.content)
    if text:
        content.append(TextContent(text=text))
    for call in choice.message.tool_calls or ():
        content.append(
            ToolUseContent(
                id=call.id or tool_use_id(),
                name=call.function.name,
                input=tool_input(call.function.arguments),
            )
        )
    reason, sequence = stop_reason(choice.finish_reason, choice.stop_reason, text, stop_sequences)
    return Message(
        id=message_id(completion.id),
        model=completion.model or model,
        content=content,
        stop_reason=reason,
        stop_sequence=sequence,
        usage=usage(completion.usage),
    )


def _text(content: str | list[Any] | None) -> str:
    if isinstance(content, list):  # some servers answer with parts
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return content or ""


def message_id(chat_id: str | None) -> str:
    """A ``msg_`` id from the upstream's completion id (a fresh one when it sent none)."""
    return "msg_" + (chat_id.removeprefix("chatcmpl-") if chat_id else uuid.uuid4().hex)


def tool_use_id() -> str:
    """An id for a tool call the upstream sent without one."""
    return "toolu_" + uuid.uuid4().hex


def tool_input(arguments: str | None) -> dict[str, Any]:
    """A tool call's arguments as the input object (not an object: ``{"arguments": <the text>}``)."""
    if not arguments or not arguments.strip():
        return {}
    try:
        parsed = json.loads(arguments)
    except ValueError:
        parsed = None
    return parsed if isinstance(parsed, dict) else {"arguments": arguments}


def stop_reason(
    finish: str | None, matched: str | int | None, text: str, stop_sequences: list[str]
) -> tuple[str, str | None]:
    """The stop reason and the stop sequence that ended the answer, if the upstream lets us know.

    A ``stop`` is ``stop_sequence`` when the upstream names the sequence (vLLM's ``stop_reason``) or
    the text ends with one; otherwise ``end_turn`` (OpenAI does not say which stop fired).
    """
    reason = STOP_REASONS.get(finish or "stop", "end_turn")
    if reason == "end_turn" and stop_sequences:
        if isinstance(matched, str) and matched in stop_sequences:
            return "stop_sequence", matched
        ending = next((s for s in stop_sequences if text.endswith(s)), None)
        if ending is not None:
            return "stop_sequence", ending
    return reason, None


def usage(reported: ChatUsage | None) -> MessageUsage:
    """Anthropic usage from OpenAI's (cached prompt tokens counted apart, as Anthropic does)."""
    if reported is None:
        return MessageUsage()
    cached = (reported.prompt_tokens_details.cached_tokens or 0) if reported.prompt_tokens_details else 0
    return MessageUsage(
        input_tokens=max(0, reported.prompt_tokens - cached),
        output_tokens=reported.completion_tokens,
        cache_read_input_tokens=cached,
    )
