"""The Anthropic surface's translation, case by case: request to chat, chat answer to message, errors."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from routeiq_app.asgi_io import ClientDisconnected, PayloadTooLarge
from routeiq_app.json_body import validate
from routeiq_app.surfaces.anthropic.errors import error_response, error_type_of
from routeiq_app.surfaces.anthropic.translate import to_chat, to_message
from routeiq_app.surfaces.anthropic.wire import CountTokensRequest, MessagesRequest
from routeiq_core.errors import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RouteIQError,
    ServiceUnavailableError,
    UpstreamError,
)

USER = {"role": "user", "content": "hi"}
PIXEL = "iVBORw0KGgo="


def chat(**body: Any) -> dict[str, Any]:
    request = validate({"model": "m", "max_tokens": 64, "messages": [USER], **body}, MessagesRequest)
    return to_chat(request)


def test_a_plain_request() -> None:
    assert chat() == {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 64}


@pytest.mark.parametrize(
    "system", ["Be brief.", [{"type": "text", "text": "Be"}, {"type": "text", "text": "brief."}]]
)
def test_the_system_prompt_leads(system: Any) -> None:
    first = chat(system=system)["messages"][0]
    assert first["role"] == "system"
    assert first["content"] in ("Be brief.", "Be\n\nbrief.")


def test_content_blocks_become_parts_and_images_urls() -> None:
    content = [
        {"type": "text", "text": "What is this?", "cache_control": {"type": "ephemeral"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]
    (message,) = chat(messages=[{"role": "user", "content": content}])["messages"]
    assert message["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
    ]


def test_a_tool_round_trip_becomes_tool_calls_and_tool_messages() -> None:
    messages = [
        USER,
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "the user wants weather", "signature": "sig"},
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Oslo"}},
                {"type": "tool_use", "id": "toolu_2", "name": "time", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "-3 C"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "is_error": True,
                    "content": [
                        {"type": "text", "text": "clock down"},
                        {"type": "image", "source": {"type": "url", "url": "https://example.com/c.png"}},
                    ],
                },
                {"type": "text", "text": "And tomorrow?"},
            ],
        },
    ]
    out = chat(messages=messages)["messages"]
    assert out[1] == {
        "role": "assistant",
        "content": "Let me look.",
        "tool_calls": [
            {
                "id": "toolu_1",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city":"Oslo"}'},
            },
            {"id": "toolu_2", "type": "function", "function": {"name": "time", "arguments": "{}"}},
        ],
    }
    assert out[2] == {"role": "tool", "tool_call_id": "toolu_1", "content": "-3 C"}
    assert out[3] == {"role": "tool", "tool_call_id": "toolu_2", "content": "Error: clock down"}
    assert out[4] == {
        "role": "user",
        "content": [
            {"type": "image_url", "image_url": {"url": "https://example.com/c.png"}},
            {"type": "text", "text": "And tomorrow?"},
        ],
    }
    assert len(out) == 5


def test_an_assistant_turn_of_tool_calls_only_has_no_content() -> None:
    turn = {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}}]}
    assert chat(messages=[USER, turn])["messages"][1]["content"] is None


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "auto"}, {"tool_choice": "auto"}),
        ({"type": "any"}, {"tool_choice": "required"}),
        ({"type": "none"}, {"tool_choice": "none"}),
        ({"type": "tool", "name": "f"}, {"tool_choice": {"type": "function", "function": {"name": "f"}}}),
        (
            {"type": "auto", "disable_parallel_tool_use": True},
            {"tool_choice": "auto", "parallel_tool_calls": False},
        ),
    ],
)
def test_tools_and_tool_choice(choice: dict[str, Any], expected: dict[str, Any]) -> None:
    tool = {"name": "f", "description": "Does f.", "input_schema": {"type": "object", "properties": {}}}
    payload = chat(tools=[tool], tool_choice=choice)
    assert payload["tools"] == [
        {
            "type": "function",
            "function": {"name": "f", "parameters": tool["input_schema"], "description": "Does f."},
        }
    ]
    assert {k: payload[k] for k in expected} == expected


def test_sampling_stop_user_and_stream() -> None:
    payload = chat(
        stop_sequences=["END"],
        temperature=0.5,
        top_p=0.9,
        top_k=40,
        metadata={"user_id": "u-1"},
        stream=True,
    )
    assert payload["stop"] == ["END"]
    assert (payload["temperature"], payload["top_p"], payload["user"]) == (0.5, 0.9, "u-1")
    assert payload["stream"] is True
    assert payload["stream_options"] == {"include_usage": True}
    assert "top_k" not in payload


def test_a_token_count_request_has_no_sampling_fields() -> None:
    request = validate({"model": "m", "messages": [USER]}, CountTokensRequest)
    assert to_chat(request) == {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"max_tokens": None}, "max_tokens"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"temperature": 1.5}, "temperature"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "system", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": [{"type": "document"}]}]}, "messages[0].content[0].type"),
        ({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "tools[0]"),
        ({"tools": [{"name": "bad name!", "input_schema": {}}]}, "tools[0].name"),
        ({"metadata": {"user_id": "u" * 257}}, "metadata.user_id"),
        ({"stop_sequences": ["s"] * 65}, "stop_sequences"),
    ],
)
def test_invalid_requests_name_the_field(body: dict[str, Any], param: str) -> None:
    payload = {"model": "m", "max_tokens": 64, "messages": [USER], **body}
    payload = {k: v for k, v in payload.items() if v is not None}
    with pytest.raises(InvalidRequestError) as caught:
        validate(payload, MessagesRequest)
    assert caught.value.param is not None
    assert caught.value.param.startswith(param)


@pytest.mark.parametrize(
    ("role", "block"),
    [
        ("user", {"type": "tool_use", "id": "t", "name": "f", "input": {}}),
        ("assistant", {"type": "tool_result", "tool_use_id": "t", "content": "x"}),
        ("assistant", {"type": "image", "source": {"type": "url", "url": "https://example.com/x.png"}}),
    ],
)
def test_a_block_in_the_wrong_turn_is_refused(role: str, block: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequestError, match="cannot be in a"):
        chat(messages=[USER, {"role": role, "content": [block]}])


def completion(message: dict[str, Any], finish: str | None = "stop", **extra: Any) -> bytes:
    choice = {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish, **extra}
    usage = {"prompt_tokens": 12, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 2}}
    body = {"id": "chatcmpl-abc", "model": "up-model", "choices": [choice], "usage": usage}
    return msgspec.json.encode(body)


def test_an_answer_becomes_a_message() -> None:
    calls = [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
        },
        {"id": "call_2", "type": "function", "function": {"name": "noop", "arguments": ""}},
        {"id": "call_3", "type": "function", "function": {"name": "raw", "arguments": "not json"}},
    ]
    message = to_message(
        completion({"content": "Looking.", "tool_calls": calls}, "tool_calls"), model="m", stop_sequences=[]
    )
    assert msgspec.to_builtins(message) == {
        "type": "message",
        "id": "msg_abc",
        "model": "up-model",
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Looking."},
            {"type": "tool_use", "id": "call_1", "name": "weather", "input": {"city": "Oslo"}},
            {"type": "tool_use", "id": "call_2", "name": "noop", "input": {}},
            {"type": "tool_use", "id": "call_3", "name": "raw", "input": {"arguments": "not json"}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 10,
            "output_tokens": 5,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 2,
        },
    }


@pytest.mark.parametrize(
    ("finish", "extra", "text", "expected"),
    [
        ("stop", {}, "Done", ("end_turn", None)),
        ("length", {}, "Do", ("max_tokens", None)),
        ("content_filter", {}, "", ("refusal", None)),
        (None, {}, "x", ("end_turn", None)),
        ("stop", {"stop_reason": "END"}, "x", ("stop_sequence", "END")),
        ("stop", {}, "x END", ("stop_sequence", "END")),
        ("stop", {"stop_reason": 128009}, "x", ("end_turn", None)),
    ],
)
def test_stop_reasons(
    finish: str | None, extra: dict[str, Any], text: str, expected: tuple[str, Any]
) -> None:
    message = to_message(completion({"content": text}, finish, **extra), model="m", stop_sequences=["END"])
    assert (message.stop_reason, message.stop_sequence) == expected


def test_an_answer_that_is_not_a_completion_is_a_502() -> None:
    with pytest.raises(UpstreamError) as caught:
        to_message(b'{"choices": "no"}', model="m", stop_sequences=[])
    assert caught.value.status_code == 502


def test_an_answer_without_usage_or_choices() -> None:
    message = to_message(b'{"model": ""}', model="asked", stop_sequences=[])
    assert (message.model, message.content, message.usage.input_tokens) == ("asked", [], 0)
    assert message.id.startswith("msg_")


@pytest.mark.parametrize(
    ("exc", "status", "kind"),
    [
        (InvalidRequestError("bad"), 400, "invalid_request_error"),
        (AuthenticationError("who?", code="missing_api_key"), 401, "authentication_error"),
        (PermissionDeniedError("no"), 403, "permission_error"),
        (NotFoundError("none"), 404, "not_found_error"),
        (PayloadTooLarge("big"), 413, "request_too_large"),
        (RateLimitError("slow down", headers={"Retry-After": "3"}), 429, "rate_limit_error"),
        (UpstreamError("down", status_code=502), 502, "api_error"),
        (UpstreamError("late", status_code=408), 408, "timeout_error"),
        (ServiceUnavailableError("busy"), 503, "overloaded_error"),
        (RouteIQError("odd"), 500, "api_error"),
        (ClientDisconnected(), 400, "invalid_request_error"),
        (RuntimeError("bug"), 500, "api_error"),
    ],
)
def test_errors_map_to_anthropic_types(exc: Exception, status: int, kind: str) -> None:
    got_status, body, headers = error_response(exc, "req-1")
    decoded = msgspec.json.decode(body)
    assert got_status == status
    assert decoded["type"] == "error"
    assert decoded["error"]["type"] == kind
    assert decoded["request_id"] == "req-1"
    assert "Traceback" not in decoded["error"]["message"]
    if status == 429:
        assert (b"retry-after", b"3") in headers
    if isinstance(exc, AuthenticationError):
        assert "x-api-key" in decoded["error"]["message"]


@pytest.mark.parametrize(
    ("openai_type", "kind"),
    [
        ("rate_limit_error", "rate_limit_error"),
        ("timeout_error", "timeout_error"),
        ("service_unavailable_error", "overloaded_error"),
        ("api_error", "api_error"),
        (None, "api_error"),
    ],
)
def test_stream_error_types(openai_type: str | None, kind: str) -> None:
    assert error_type_of(openai_type) == kind
