"""What the mock answers, decided from the request alone: text, tool calls, or JSON.

The mock plays an agent's model. When the request offers function tools (and ``tool_choice`` is
not ``none``) it calls the first tool not yet called since the last user message (all of them with
``parallel_tool_calls: true``; the named one for a named ``tool_choice``), with arguments generated
from the tool's ``parameters``. Once every tool has been called and answered, it replies with text
that quotes the tool results. ``response_format`` makes the text a JSON instance of the schema;
``stop`` and ``max_tokens`` cut it; ``n`` repeats the choice.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import msgspec

from routeiq_adapters.providers import mock_schema, mock_strings
from routeiq_adapters.providers.mock_request import (
    MockRequestError,
    Options,
    check_conversation,
    function_tools,
    options,
)

__all__ = ["MockAnswer", "MockChoice", "MockRequestError", "MockToolCall", "plan", "tokens"]

MAX_ANSWER_CHARS = 4_000_000
"""Most characters one answer holds in all its choices."""
MAX_LOGPROB_ENTRIES = 200_000
"""Most log probabilities (tokens times ``1 + top_logprobs``) one answer holds."""
_RESULT_CHARS = 200
"""How much of each tool result the final answer quotes."""
_TOKEN = re.compile(r"\s*\S+|\s+$")


class MockToolCall(msgspec.Struct, frozen=True, kw_only=True):
    """One function call the mock makes."""

    id: str
    name: str
    arguments: str


class MockChoice(msgspec.Struct, frozen=True, kw_only=True):
    """One choice: text (None for tool calls) or tool calls, and why it ended."""

    text: str | None = None
    tool_calls: tuple[MockToolCall, ...] = ()
    finish_reason: str = "stop"


class MockAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the mock replies with, before it is put on the wire."""

    choices: tuple[MockChoice, ...]
    options: Options

    @property
    def completion_tokens(self) -> int:
        """Tokens generated in all choices (a token is a word, or a fragment of tool arguments)."""
        total = 0
        for choice in self.choices:
            total += len(tokens(choice.text or ""))
            total += sum(len(tokens(call.arguments)) for call in choice.tool_calls)
        return total


def tokens(text: str) -> list[str]:
    """The mock's tokens: each word with the whitespace before it (they join back into ``text``)."""
    return _TOKEN.findall(text)


def plan(payload: dict[str, Any], *, chat: bool, content: str, echo: bool, use_tools: bool) -> MockAnswer:
    """Decide the answer to one chat (``chat``) or completions request.

    Args:
        payload: The OpenAI-shaped request.
        chat: A chat completion (else a legacy completion: no tools, no ``response_format``).
        content: The configured reply text.
        echo: Reply with the last user message (or the prompt) instead of ``content``.
        use_tools: Answer with tool calls when the request offers tools.

    Raises:
        MockRequestError: A field the mock cannot honour (the message names it).
    """
    opts = options(payload, chat=chat)
    if not chat:
        prompt = payload.get("prompt")
        text = prompt if echo and isinstance(prompt, str) and prompt else content
        return _bounded(MockAnswer(choices=(_cut(text, opts),) * opts.n, options=opts))
    messages = payload.get("messages")
    messages = messages if isinstance(messages, list) else []
    called, results = check_conversation(messages)
    user = mock_strings.user_text(messages)
    targets = _targets(payload, called) if use_tools else []
    if targets:
        arguments = [_arguments(tool, user) for tool in targets]
        choices = tuple(
            MockChoice(tool_calls=_calls(targets, arguments, len(messages), i), finish_reason="tool_calls")
            for i in range(opts.n)
        )
        return _bounded(MockAnswer(choices=choices, options=opts))
    if results:
        text = "Tool results: " + "; ".join(f"{name}: {_clip(out)}" for name, out in results) + "."
    else:
        text = (user or content) if echo else content
    text = _formatted(payload.get("response_format"), text, user)
    return _bounded(MockAnswer(choices=(_cut(text, opts),) * opts.n, options=opts))


def _targets(payload: dict[str, Any], called: list[str]) -> list[dict[str, Any]]:
    """The function tools to call now (empty: answer with text)."""
    tools = function_tools(payload.get("tools"))
    choice = payload.get("tool_choice", "auto" if tools else "none")
    if not tools or choice == "none":
        return []
    if isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        allowed = _mapping(choice.get("allowed_tools"))
        listed = allowed.get("tools")
        names = {_function_name(t) for t in listed} if isinstance(listed, list) else set()
        tools = [t for t in tools if t["name"] in names]
        choice = allowed.get("mode", "auto")
        if not tools:
            raise MockRequestError("tool_choice", "tool_choice.allowed_tools names none of the tools")
    if isinstance(choice, dict):
        name = _function_name(choice)
        named = [t for t in tools if t["name"] == name]
        if not named:
            raise MockRequestError("tool_choice", f"tool_choice names the function {name!r}, not in tools")
        return named
    if choice not in ("auto", "required"):
        raise MockRequestError(
            "tool_choice", f"tool_choice must be none, auto, required or a function, not {choice!r}"
        )
    pending = [t for t in tools if t["name"] not in called]
    if not pending:
        return tools[:1] if choice == "required" else []
    return pending if payload.get("parallel_tool_calls") is True else pending[:1]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _function_name(tool: Any) -> Any:
    """The function a ``tool_choice`` names: ``{"function": {"name"}}`` or (Responses style) ``{"name"}``."""
    tool = _mapping(tool)
    return _mapping(tool.get("function")).get("name") or tool.get("name")


def _arguments(tool: dict[str, Any], user: str) -> str:
    name = tool["name"]
    try:
        arguments = mock_schema.instance(tool["parameters"], text=user, name=name)
    except mock_schema.SchemaError as exc:
        raise MockRequestError("tools", f"cannot generate arguments for tool {name!r}: {exc}") from None
    if not isinstance(arguments, dict):
        raise MockRequestError("tools", f"the parameters of tool {name!r} must describe an object")
    return json.dumps(arguments)


def _calls(
    targets: list[dict[str, Any]], arguments: list[str], turn: int, choice: int
) -> tuple[MockToolCall, ...]:
    calls = []
    for j, (tool, args) in enumerate(zip(targets, arguments, strict=True)):
        digest = hashlib.blake2b(f"{turn}|{choice}|{j}|{tool['name']}".encode(), digest_size=12).hexdigest()
        calls.append(MockToolCall(id=f"call_{digest}", name=tool["name"], arguments=args))
    return tuple(calls)


def _bounded(answer: MockAnswer) -> MockAnswer:
    """Refuse an answer too large to build: ``n`` times a long text, or logprobs for all of it."""
    chars = sum(len(c.text or "") + sum(len(t.arguments) for t in c.tool_calls) for c in answer.choices)
    if chars > MAX_ANSWER_CHARS:
        raise MockRequestError(
            "n", f"the answer would hold {chars:,} characters, over the mock's {MAX_ANSWER_CHARS:,}; lower n"
        )
    if answer.options.logprobs:
        entries = answer.completion_tokens * (1 + answer.options.top_logprobs)
        if entries > MAX_LOGPROB_ENTRIES:
            raise MockRequestError(
                "top_logprobs",
                f"logprobs would need {entries:,} entries, over the mock's {MAX_LOGPROB_ENTRIES:,}; "
                "lower n, top_logprobs or max_tokens",
            )
    return answer


def _formatted(response_format: Any, text: str, user: str) -> str:
    if response_format is None:
        return text
    if not isinstance(response_format, dict):
        raise MockRequestError("response_format", "response_format must be an object")
    kind = response_format.get("type")
    if kind == "text":
        return text
    if kind == "json_object":
        return json.dumps({"answer": text})
    if kind != "json_schema":
        raise MockRequestError(
            "response_format", f"response_format.type must be text, json_object or json_schema, not {kind!r}"
        )
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict):
        raise MockRequestError("response_format", "response_format.json_schema must be an object")
    schema = spec.get("schema", {"type": "object"})
    try:
        value = mock_schema.instance(schema, text=user, name=str(spec.get("name") or "response"))
    except mock_schema.SchemaError as exc:
        raise MockRequestError(
            "response_format", f"cannot generate an instance of the schema: {exc}"
        ) from None
    return json.dumps(value, ensure_ascii=False)


def _cut(text: str, opts: Options) -> MockChoice:
    """Apply ``stop`` (cut before the first stop string) and ``max_tokens`` (finish ``length``)."""
    found = [i for i in (text.find(s) for s in opts.stop) if i >= 0]
    if found:
        text = text[: min(found)]
    if opts.max_tokens is not None:
        pieces = tokens(text)
        if len(pieces) > opts.max_tokens:
            return MockChoice(text="".join(pieces[: opts.max_tokens]), finish_reason="length")
    return MockChoice(text=text)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _RESULT_CHARS else text[: _RESULT_CHARS - 3] + "..."
