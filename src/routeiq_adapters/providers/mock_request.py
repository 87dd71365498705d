"""The request fields the mock honours, checked: bad values are a 400 that names the field."""

from __future__ import annotations

from typing import Any

import msgspec

from routeiq_adapters.providers import mock_strings

MAX_CHOICES = 128
MAX_TOOLS = 128
MAX_STOP = 4
MAX_TOP_LOGPROBS = 20
MAX_COMPLETION_LOGPROBS = 5


class MockRequestError(ValueError):
    """A request field the mock cannot honour; ``param`` names it."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


class Options(msgspec.Struct, frozen=True, kw_only=True):
    """The sampling fields of a request, checked."""

    n: int = 1
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    logprobs: bool = False
    top_logprobs: int = 0
    seed: int | None = None


def options(payload: dict[str, Any], *, chat: bool) -> Options:
    """The checked ``n``, ``max_tokens``, ``stop``, ``logprobs``, ``top_logprobs`` and ``seed``.

    Raises:
        MockRequestError: A field of the wrong type or out of range.
    """
    n = _integer(payload, "n", 1, MAX_CHOICES) or 1
    limits = [_integer(payload, key, 1, None) for key in ("max_tokens", "max_completion_tokens")]
    given = [v for v in limits if v is not None]
    stop = payload.get("stop")
    stops = (stop,) if isinstance(stop, str) else tuple(stop) if isinstance(stop, list) else ()
    if stop is not None and (
        not all(isinstance(s, str) and s for s in stops) or len(stops) > MAX_STOP or not stops
    ):
        raise MockRequestError(
            "stop", f"stop must be a non-empty string or a list of 1 to {MAX_STOP} of them"
        )
    if chat:
        logprobs = payload.get("logprobs")
        if logprobs is not None and not isinstance(logprobs, bool):
            raise MockRequestError("logprobs", "logprobs must be true or false")
        top = _integer(payload, "top_logprobs", 0, MAX_TOP_LOGPROBS)
        if top is not None and not logprobs:
            raise MockRequestError("top_logprobs", "top_logprobs needs logprobs: true")
        wanted, top_count = bool(logprobs), top or 0
    else:
        count = _integer(payload, "logprobs", 0, MAX_COMPLETION_LOGPROBS)
        wanted, top_count = count is not None, count or 0
    seed = payload.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise MockRequestError("seed", "seed must be an integer")
    return Options(
        n=n,
        max_tokens=min(given) if given else None,
        stop=stops,
        logprobs=wanted,
        top_logprobs=top_count,
        seed=seed,
    )


def function_tools(tools: Any) -> list[dict[str, Any]]:
    """The function tools of a request as ``{"name", "parameters"}`` (other tool types are skipped).

    Raises:
        MockRequestError: ``tools`` is not a list, or a function has no name.
    """
    if tools is None:
        return []
    if not isinstance(tools, list) or len(tools) > MAX_TOOLS:
        raise MockRequestError("tools", f"tools must be a list of at most {MAX_TOOLS}")
    out = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            continue
        function = tool.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str) or not name:
            raise MockRequestError("tools", f"tools[{i}].function.name must be a non-empty string")
        assert isinstance(function, dict)
        parameters = function.get("parameters")
        out.append({"name": name, "parameters": {"type": "object"} if parameters is None else parameters})
    return out


def check_conversation(messages: list[Any]) -> tuple[list[str], list[tuple[str, str]]]:
    """Check that every tool call is answered, as OpenAI does; return the current turn's calls and results.

    The current turn is what follows the last user message.

    Returns:
        The names of the functions called in this turn, and ``(name, result text)`` of their results.

    Raises:
        MockRequestError: A tool call without a result, or a result without a call.
    """
    pending: dict[str, str] = {}
    called: list[str] = []
    results: list[tuple[str, str]] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if pending and role != "tool":
            raise _unanswered(pending)
        if role == "user":
            called, results = [], []
        elif role == "assistant":
            calls = message.get("tool_calls") or []
            if not isinstance(calls, list):
                raise MockRequestError("messages", "an assistant message's tool_calls must be a list")
            for call in calls:
                call_id, name = _call(call)
                pending[call_id] = name
                called.append(name)
        elif role == "tool":
            answered = message.get("tool_call_id")
            if not isinstance(answered, str) or answered not in pending:
                raise MockRequestError(
                    "messages",
                    "Invalid parameter: messages with role 'tool' must be a response to a preceding "
                    f"message with 'tool_calls' (tool_call_id {answered!r} answers no call).",
                )
            results.append((pending.pop(answered), mock_strings.text_of(message.get("content"))))
    if pending:
        raise _unanswered(pending)
    return called, results


def _call(call: Any) -> tuple[str, str]:
    function = call.get("function") if isinstance(call, dict) else None
    call_id = call.get("id") if isinstance(call, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(call_id, str) or not isinstance(name, str):
        raise MockRequestError("messages", "each tool call needs a string id and function.name")
    return call_id, name


def _unanswered(pending: dict[str, str]) -> MockRequestError:
    return MockRequestError(
        "messages",
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
        f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(pending)}",
    )


def _integer(payload: dict[str, Any], key: str, low: int, high: int | None) -> int | None:
    value = payload.get(key)
    if value is None:
        return None
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < low
        or (high is not None and value > high)
    ):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise MockRequestError(key, f"{key} must be an integer {bounds}")
    return value
