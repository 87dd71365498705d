"""The Responses ⇄ chat translation: requests into chat payloads, chat answers into response objects."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from routeiq_app.surfaces.responses.calls import decode_request
from routeiq_app.surfaces.responses.conversation import stored_items
from routeiq_app.surfaces.responses.translate import request_items, to_chat, to_response
from routeiq_core.errors import InvalidRequestError, UpstreamError

DECODER = msgspec.json.Decoder(dict[str, Any])


def request(**body: Any) -> Any:
    return decode_request(json.dumps({"model": "m", **body}).encode(), DECODER)


def chat(**body: Any) -> dict[str, Any]:
    req = request(**body)
    return to_chat(req, request_items(req))


def completion(message: dict[str, Any], finish: str = "stop", **extra: Any) -> bytes:
    return json.dumps(
        {"id": "c", "model": "up", "choices": [{"message": message, "finish_reason": finish}], **extra}
    ).encode()


def test_a_string_input_with_instructions() -> None:
    assert chat(input="hi", instructions="Be brief.") == {
        "model": "m",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
    }


def test_items_become_chat_messages() -> None:
    payload = chat(
        input=[
            {"role": "developer", "content": "rules"},
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "look"},
                    {"type": "input_image", "image_url": "https://x/i.png"},
                ],
            },
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Calling."}],
            },
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            {"type": "function_call", "call_id": "c2", "name": "g", "arguments": '{"a":1}'},
            {"type": "function_call_output", "call_id": "c1", "output": "one"},
            {
                "type": "function_call_output",
                "call_id": "c2",
                "output": [{"type": "input_text", "text": "two"}],
            },
        ]
    )
    assert payload["messages"] == [
        {"role": "system", "content": "rules"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "https://x/i.png", "detail": "auto"}},
            ],
        },
        {
            "role": "assistant",
            "content": "Calling.",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"id": "c2", "type": "function", "function": {"name": "g", "arguments": '{"a":1}'}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "one"},
        {"role": "tool", "tool_call_id": "c2", "content": "two"},
    ]


def test_tools_format_and_options() -> None:
    payload = chat(
        input="hi",
        tools=[{"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": True}],
        tool_choice={"type": "function", "name": "f"},
        parallel_tool_calls=False,
        text={"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}, "strict": True}},
        temperature=0.5,
        top_p=0.9,
        max_output_tokens=10,
        user="u",
        reasoning={"effort": "low"},
        metadata={"a": "b"},
        stream=True,
    )
    assert payload["tools"] == [
        {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}, "strict": True}}
    ]
    assert payload["tool_choice"] == {"type": "function", "function": {"name": "f"}}
    assert payload["parallel_tool_calls"] is False
    assert payload["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "w", "schema": {"type": "object"}, "strict": True},
    }
    assert (payload["temperature"], payload["top_p"], payload["max_tokens"]) == (0.5, 0.9, 10)
    assert (payload["user"], payload["reasoning_effort"], payload["stream"]) == ("u", "low", True)
    assert "metadata" not in payload
    assert chat(input="x", text={"format": {"type": "json_object"}})["response_format"] == {
        "type": "json_object"
    }


@pytest.mark.parametrize(
    "tool", [{"type": "web_search"}, {"type": "file_search", "vector_store_ids": []}, "x"]
)
def test_other_tools_are_refused_by_type(tool: Any) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        request(input="hi", tools=[tool])
    assert refused.value.param == "tools[0].type"
    assert "not supported" in refused.value.message


def test_unknown_items_and_fields_are_refused_naming_them() -> None:
    with pytest.raises(InvalidRequestError) as refused:
        request(input=[{"type": "reasoning", "summary": []}])
    assert refused.value.param is not None
    assert refused.value.param.startswith("input[0]")
    with pytest.raises(InvalidRequestError):
        request(input="hi", background=True)
    with pytest.raises(InvalidRequestError):
        request(input="hi", temperature=3)


def test_a_text_answer() -> None:
    body = completion({"content": "Hi"}, usage={"prompt_tokens": 3, "completion_tokens": 2})
    response = to_response(body, request(input="hi", metadata={"k": "v"}), "resp_1")
    encoded = json.loads(msgspec.json.encode(response))
    assert encoded["id"] == "resp_1"
    assert encoded["object"] == "response"
    assert encoded["status"] == "completed"
    assert encoded["model"] == "up"
    assert encoded["metadata"] == {"k": "v"}
    [message] = encoded["output"]
    assert message["type"] == "message"
    assert message["role"] == "assistant"
    assert message["id"].startswith("msg_")
    assert message["content"] == [{"type": "output_text", "text": "Hi", "annotations": [], "logprobs": []}]
    assert encoded["usage"]["input_tokens"] == 3
    assert encoded["usage"]["output_tokens"] == 2
    assert encoded["usage"]["total_tokens"] == 5
    assert encoded["incomplete_details"] is None


def test_tool_calls_and_a_cut_answer() -> None:
    calls = [{"id": "call_1", "function": {"name": "f", "arguments": '{"a": 1}'}}]
    response = to_response(
        completion({"content": None, "tool_calls": calls}, "tool_calls"), request(input="x"), "r"
    )
    [call] = response.output
    assert (call.call_id, call.name, call.arguments) == ("call_1", "f", '{"a": 1}')  # type: ignore[union-attr]
    cut = to_response(completion({"content": "Hel"}, "length"), request(input="x"), "r")
    assert cut.status == "incomplete"
    assert cut.incomplete_details is not None
    assert cut.incomplete_details.reason == "max_output_tokens"


def test_a_completion_without_choices_is_an_upstream_error() -> None:
    with pytest.raises(UpstreamError):
        to_response(b'{"choices": []}', request(input="x"), "r")


def test_stored_items_get_ids_and_parts() -> None:
    items = stored_items(request_items(request(input="hi")))
    [item] = json.loads(msgspec.json.encode(items))
    assert item["id"].startswith("msg_")
    assert item["content"] == [{"type": "input_text", "text": "hi"}]
