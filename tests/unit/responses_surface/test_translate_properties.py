"""Property tests: translating a chat answer to a response and back into chat keeps its meaning."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from routeiq_app.surfaces.responses.conversation import ITEMS, stored_items
from routeiq_app.surfaces.responses.translate import as_input, chat_messages, to_response
from routeiq_app.surfaces.responses.wire import ResponsesRequest

PROPERTY = settings(max_examples=200, deadline=None)
REQUEST = ResponsesRequest(model="m")
texts = st.text(min_size=1, max_size=40)
names = st.from_regex(r"[a-zA-Z0-9_-]{1,20}", fullmatch=True)
arguments = st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3).map(
    json.dumps
)
calls = st.lists(
    st.builds(
        lambda i, n, a: {"id": f"call_{i}", "function": {"name": n, "arguments": a}},
        st.uuids(),
        names,
        arguments,
    ),
    max_size=3,
)


@PROPERTY
@given(text=st.none() | texts, tool_calls=calls)
def test_an_answer_fed_back_is_the_same_assistant_message(text: str | None, tool_calls: list[Any]) -> None:
    message: dict[str, Any] = {"content": text, "tool_calls": tool_calls or None}
    body = json.dumps({"choices": [{"message": message, "finish_reason": "stop"}]}).encode()
    response = to_response(body, REQUEST, "resp_x")
    # through the store (encoded, decoded) and back into chat, as previous_response_id does
    items = ITEMS.decode(msgspec.json.encode(stored_items(as_input(response.output))))
    back = chat_messages(items)
    if not text and not tool_calls:
        assert back == []
        return
    [assistant] = back
    assert assistant["role"] == "assistant"
    assert (assistant["content"] or None) == text
    expected = [
        {
            "id": c["id"],
            "type": "function",
            "function": {"name": c["function"]["name"], "arguments": c["function"]["arguments"]},
        }
        for c in tool_calls
    ]
    assert assistant.get("tool_calls", []) == expected


turns = st.lists(
    st.one_of(
        st.builds(lambda t: {"type": "message", "role": "user", "content": t}, texts),
        st.builds(
            lambda t: {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": t}],
            },
            texts,
        ),
        st.builds(
            lambda c, n, a: {"type": "function_call", "call_id": f"c{c}", "name": n, "arguments": a},
            st.integers(0, 99),
            names,
            arguments,
        ),
        st.builds(
            lambda c, o: {"type": "function_call_output", "call_id": f"c{c}", "output": o},
            st.integers(0, 99),
            texts,
        ),
    ),
    max_size=12,
)


@PROPERTY
@given(conversation=turns)
def test_every_item_is_in_the_chat_messages_in_order(conversation: list[dict[str, Any]]) -> None:
    items = ITEMS.decode(json.dumps(conversation))
    messages = chat_messages(items)
    seen: list[tuple[str, str]] = []
    for message in messages:
        if message["role"] == "tool":
            seen.append(("out", message["tool_call_id"] + message["content"]))
            continue
        if message["content"]:
            seen.append((message["role"], message["content"]))
        seen += [
            ("call", c["id"] + c["function"]["name"] + c["function"]["arguments"])
            for c in message.get("tool_calls", ())
        ]
    expected: list[tuple[str, str]] = []
    for item in conversation:
        if item["type"] == "message":
            content = item["content"]
            expected.append((item["role"], content if isinstance(content, str) else content[0]["text"]))
        elif item["type"] == "function_call":
            expected.append(("call", item["call_id"] + item["name"] + item["arguments"]))
        else:
            expected.append(("out", item["call_id"] + item["output"]))
    assert seen == expected
