"""Properties of the non-streaming translation: a round trip through chat keeps the meaning.

Requests: a generated Messages request, translated to chat and read back by an independent inverse
(written here, from the chat side), means what it meant (see :func:`meaning` for what chat cannot
hold: block order inside an assistant turn, thinking, ``top_k``). Answers: a generated chat
completion becomes a message with the same text, tool calls, stop reason and token counts.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from routeiq_app.surfaces.anthropic.translate import BLOCK_SEPARATOR, TOOL_ERROR_PREFIX, to_chat, to_message
from routeiq_app.surfaces.anthropic.wire import MessagesRequest

PROPERTY = settings(max_examples=150, deadline=None)
text = st.text(min_size=1, max_size=12).filter(lambda t: not t.startswith(TOOL_ERROR_PREFIX))
names = st.from_regex(r"[a-zA-Z0-9_-]{1,12}", fullmatch=True)
ids = st.from_regex(r"toolu_[a-z0-9]{1,8}", fullmatch=True)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
inputs = st.dictionaries(st.text(max_size=6), json_values, max_size=4)
images = st.one_of(
    st.builds(
        lambda data: {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}},
        st.from_regex(r"[A-Za-z0-9+/]{4,16}", fullmatch=True),
    ),
    st.builds(
        lambda n: {"type": "image", "source": {"type": "url", "url": f"https://example.com/{n}.png"}}, names
    ),
)
texts = text.map(lambda t: {"type": "text", "text": t})
thinking = st.just({"type": "thinking", "thinking": "hmm", "signature": "s"})


@st.composite
def conversations(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Strictly alternating turns; every assistant tool call answered in the next user turn."""
    turns: list[dict[str, Any]] = []
    pending: list[str] = []
    for i in range(draw(st.integers(1, 6))):
        if i % 2 == 0:
            results = [
                {
                    "type": "tool_result",
                    "tool_use_id": call,
                    "is_error": draw(st.booleans()),
                    "content": draw(text | st.lists(texts | images, max_size=3)),
                }
                for call in pending
            ]
            parts = draw(st.lists(texts | images, min_size=0 if results else 1, max_size=3))
            content: Any = [*results, *parts]
            if not results and len(parts) == 1 and draw(st.booleans()) and parts[0]["type"] == "text":
                content = parts[0]["text"]
            turns.append({"role": "user", "content": content})
        else:
            calls = draw(
                st.lists(
                    st.builds(lambda i, n, x: (i, n, x), ids, names, inputs),
                    max_size=3,
                    unique_by=lambda c: c[0],
                )
            )
            blocks = [{"type": "tool_use", "id": c[0], "name": c[1], "input": c[2]} for c in calls]
            blocks += draw(st.lists(texts | thinking, min_size=0 if blocks else 1, max_size=3))
            blocks = draw(st.permutations(blocks))
            turns.append({"role": "assistant", "content": blocks})
            pending = [c[0] for c in calls]
    return turns


requests = st.fixed_dictionaries(
    {"model": names, "max_tokens": st.integers(1, 4096), "messages": conversations()},
    optional={
        "system": text | st.lists(texts, min_size=1, max_size=3),
        "stop_sequences": st.lists(text, max_size=3),
        "temperature": st.floats(0, 1),
        "top_p": st.floats(0, 1),
        "top_k": st.integers(0, 100),
        "stream": st.booleans(),
        "metadata": st.builds(lambda u: {"user_id": u}, names),
        "tools": st.lists(
            st.builds(lambda n: {"name": n, "input_schema": {"type": "object"}}, names),
            min_size=1,
            max_size=3,
        ),
    },
)


def meaning(request: dict[str, Any]) -> dict[str, Any]:
    """What a request says that chat can carry: texts, images, tool calls and results, in order.

    An assistant turn's texts join into one and come before its tool calls; a user turn's tool
    results (their text) come first, their images with the turn's other parts; thinking is dropped.
    """
    turns: list[Any] = []
    for turn in request["messages"]:
        content = turn["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if turn["role"] == "assistant":
            said = [b["text"] for b in blocks if b["type"] == "text"]
            calls = [(b["id"], b["name"], b["input"]) for b in blocks if b["type"] == "tool_use"]
            turns.append(("assistant", BLOCK_SEPARATOR.join(said) or None, calls))
            continue
        results: list[Any] = []
        parts: list[Any] = []
        for b in blocks:
            if b["type"] == "tool_result":
                inner = b["content"]
                inner = [{"type": "text", "text": inner}] if isinstance(inner, str) else inner
                result = BLOCK_SEPARATOR.join(x["text"] for x in inner if x["type"] == "text")
                results.append((b["tool_use_id"], result, b["is_error"]))
                parts += [x for x in inner if x["type"] == "image"]
            elif b["type"] != "thinking":
                parts.append(b)
        turns.append(("user", results, [_part(p) for p in parts]))
    system = request.get("system")
    if isinstance(system, list):
        system = BLOCK_SEPARATOR.join(b["text"] for b in system)
    keep = ("model", "max_tokens", "stop_sequences", "temperature", "top_p", "stream", "tools")
    rest = {k: request[k] for k in keep if request.get(k)}
    if request.get("metadata"):
        rest["user"] = request["metadata"]["user_id"]
    return {"system": system or None, "turns": turns, **rest}


def _part(block: dict[str, Any]) -> tuple[str, str]:
    if block["type"] == "text":
        return ("text", block["text"])
    source = block["source"]
    if source["type"] == "url":
        return ("image", source["url"])
    return ("image", f"data:{source['media_type']};base64,{source['data']}")


def read_back(payload: dict[str, Any]) -> dict[str, Any]:
    """The inverse, from the chat side: what the chat payload says, in :func:`meaning`'s terms."""
    messages = list(payload["messages"])
    system = messages.pop(0)["content"] if messages and messages[0]["role"] == "system" else None
    turns: list[Any] = []
    while messages:
        message = messages.pop(0)
        if message["role"] == "assistant":
            calls = [
                (c["id"], c["function"]["name"], json.loads(c["function"]["arguments"]))
                for c in message.get("tool_calls", ())
            ]
            turns.append(("assistant", message["content"] or None, calls))
            continue
        results = []
        while message["role"] == "tool":
            error = message["content"].startswith(TOOL_ERROR_PREFIX)
            results.append(
                (message["tool_call_id"], message["content"].removeprefix(TOOL_ERROR_PREFIX), error)
            )
            if not messages or messages[0]["role"] not in ("tool", "user"):
                message = {"role": "user", "content": []}
                break
            message = messages.pop(0)
        content = message["content"]
        parts: list[Any] = [{"type": "text", "text": content}] if isinstance(content, str) else content
        said = [
            ("text", p["text"]) if p["type"] == "text" else ("image", p["image_url"]["url"]) for p in parts
        ]
        turns.append(("user", results, said))
    rest: dict[str, Any] = {"model": payload["model"], "max_tokens": payload["max_tokens"]}
    rest |= {k: payload[k] for k in ("temperature", "top_p", "stream", "user") if payload.get(k)}
    if payload.get("stop"):
        rest["stop_sequences"] = payload["stop"]
    if payload.get("tools"):
        rest["tools"] = [
            {"name": t["function"]["name"], "input_schema": t["function"]["parameters"]}
            for t in payload["tools"]
        ]
    return {"system": system, "turns": turns, **rest}


@PROPERTY
@given(requests)
def test_a_request_means_the_same_in_chat(request: dict[str, Any]) -> None:
    payload = to_chat(msgspec.convert(request, MessagesRequest))
    assert read_back(payload) == meaning(request)
    assert "top_k" not in payload
    assert not payload.get("stream") or payload["stream_options"] == {"include_usage": True}


FINISH = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}


@PROPERTY
@given(
    content=st.none() | st.text(max_size=20),
    calls=st.lists(st.builds(lambda i, n, x: (i, n, x), ids, names, inputs), max_size=3),
    finish=st.sampled_from(sorted(FINISH)),
    prompt=st.integers(0, 10_000),
    cached=st.integers(0, 10_000),
    completion=st.integers(0, 10_000),
)
def test_an_answer_means_the_same_as_a_message(
    content: str | None, calls: list[Any], finish: str, prompt: int, cached: int, completion: int
) -> None:
    cached = min(cached, prompt)
    tool_calls = [
        {"id": i, "type": "function", "function": {"name": n, "arguments": json.dumps(x)}}
        for i, n, x in calls
    ]
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    }
    body = {
        "id": "chatcmpl-1",
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
    }
    answer = to_message(msgspec.json.encode({**body, "usage": usage}), model="m", stop_sequences=[])
    blocks = msgspec.to_builtins(answer.content)
    said = [b["text"] for b in blocks if b["type"] == "text"]
    assert "".join(said) == (content or "")
    assert [(b["id"], b["name"], b["input"]) for b in blocks if b["type"] == "tool_use"] == [
        (i, n, x) for i, n, x in calls
    ]
    assert answer.stop_reason == FINISH[finish]
    assert answer.usage.input_tokens + answer.usage.cache_read_input_tokens == prompt
    assert answer.usage.output_tokens == completion
