"""The mock adapter's own behaviour: it plays an agent, honours sampling fields, fails on script.

The port contract it shares with the other adapters is in tests/contract/test_provider_port.py.
"""

from __future__ import annotations

import base64
import json
import struct
import time
from typing import Any

import jsonschema
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routeiq_adapters.providers.mock import MockBehaviour, MockProvider, MockStep
from routeiq_adapters.providers.mock_agent import MockAnswer, MockRequestError, plan
from routeiq_core.catalog import Deployment
from routeiq_core.errors import UpstreamError
from routeiq_core.providers import Operation

pytestmark = pytest.mark.anyio

QUESTION = "What's the weather in Paris, and what time is it there?"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
CLOCK = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {
            "type": "object",
            "properties": {"timezone": {"type": "string"}},
            "required": ["timezone"],
        },
    },
}
TOOLS = [WEATHER, CLOCK]


def _mock(**behaviour: Any) -> Deployment:
    return Deployment(
        id="mock-d",
        model_group="g",
        adapter="mock",
        upstream_model="m",
        params={"mock": MockBehaviour(**behaviour)},
    )


def _chat(content: str = QUESTION, **fields: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": content}], **fields}


async def _send(
    payload: dict[str, Any], operation: Operation = Operation.CHAT, **behaviour: Any
) -> dict[str, Any]:
    reply = await MockProvider().send(_mock(**behaviour), operation, payload, timeout_s=5)
    body: dict[str, Any] = msgspec.json.decode(reply.body)
    return body


async def _chunks(
    payload: dict[str, Any],
    operation: Operation = Operation.CHAT,
    provider: MockProvider | None = None,
    **behaviour: Any,
) -> list[dict[str, Any]]:
    stream = (provider or MockProvider()).stream(_mock(**behaviour), operation, payload, timeout_s=5)
    return [
        msgspec.json.decode(f.removeprefix(b"data: ")) async for c in stream for f in c.split(b"\n\n") if f
    ]


def _bad(caught: pytest.ExceptionInfo[UpstreamError], param: str) -> str:
    assert (caught.value.status_code, caught.value.param, caught.value.retryable) == (400, param, False)
    return caught.value.message


# --- failures, echo, determinism (as before) ------------------------------------------------------


async def test_mock_injected_failures_use_the_configured_status() -> None:
    provider = MockProvider()
    with pytest.raises(UpstreamError) as caught:
        await provider.send(
            _mock(error_rate=1.0, error_status=503), Operation.CHAT, {"model": "m"}, timeout_s=1
        )
    assert (caught.value.status_code, caught.value.retryable) == (503, True)
    with pytest.raises(UpstreamError) as final:
        await provider.send(
            _mock(error_rate=1.0, error_status=400), Operation.CHAT, {"model": "m"}, timeout_s=1
        )
    assert (final.value.status_code, final.value.retryable) == (400, False)


async def test_mock_echoes_the_last_user_message() -> None:
    body = await _send(_chat("repeat after me"), echo=True)
    assert body["choices"][0]["message"]["content"] == "repeat after me"


async def test_mock_is_deterministic() -> None:
    async def outcomes() -> list[bool]:
        provider, results = MockProvider(), []
        for _ in range(20):
            try:
                await provider.send(
                    _mock(error_rate=0.5, seed=7), Operation.CHAT, {"model": "m"}, timeout_s=1
                )
                results.append(True)
            except UpstreamError:
                results.append(False)
        return results

    first = await outcomes()
    assert first == await outcomes()
    assert True in first
    assert False in first
    embed = {"model": "m", "input": ["same text"]}
    a = await MockProvider().send(_mock(), Operation.EMBEDDINGS, embed, timeout_s=1)
    b = await MockProvider().send(_mock(), Operation.EMBEDDINGS, embed, timeout_s=1)
    assert a.body == b.body


# --- tool calls -------------------------------------------------------------------------------------


def _answer(messages: list[dict[str, Any]], message: dict[str, Any], result: str = "ok") -> None:
    messages.append(message)
    for call in message.get("tool_calls") or []:
        messages.append(
            {"role": "tool", "tool_call_id": call["id"], "content": f"{call['function']['name']}: {result}"}
        )


async def test_an_agent_loop_calls_each_tool_once_then_answers_with_the_results() -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": QUESTION}]
    provider, seen = MockProvider(), []
    for _ in range(3):
        reply = await provider.send(
            _mock(), Operation.CHAT, {"model": "m", "messages": messages, "tools": TOOLS}, timeout_s=5
        )
        choice = msgspec.json.decode(reply.body)["choices"][0]
        seen.append(choice["finish_reason"])
        _answer(messages, choice["message"], "sunny")
    assert seen == ["tool_calls", "tool_calls", "stop"]
    first, second = messages[1]["tool_calls"][0], messages[3]["tool_calls"][0]
    assert first["function"]["name"] == "get_weather"
    assert json.loads(first["function"]["arguments"]) == {"city": "Paris", "unit": "celsius"}
    assert second["function"]["name"] == "get_time"
    assert json.loads(second["function"]["arguments"]) == {"timezone": "UTC"}
    assert first["id"] != second["id"]
    assert first["id"].startswith("call_")
    final = messages[-1]["content"]
    assert "get_weather: sunny" in final
    assert "get_time" in final


async def test_tool_choice_none_named_required_and_parallel() -> None:
    assert (await _send(_chat(tools=TOOLS, tool_choice="none")))["choices"][0]["finish_reason"] == "stop"
    named = {"type": "function", "function": {"name": "get_time"}}
    body = await _send(_chat(tools=TOOLS, tool_choice=named))
    assert [c["function"]["name"] for c in body["choices"][0]["message"]["tool_calls"]] == ["get_time"]
    body = await _send(_chat(tools=TOOLS, parallel_tool_calls=True))
    assert [c["function"]["name"] for c in body["choices"][0]["message"]["tool_calls"]] == [
        "get_weather",
        "get_time",
    ]
    messages: list[dict[str, Any]] = [{"role": "user", "content": QUESTION}]
    _answer(messages, body["choices"][0]["message"])
    done = await _send({"model": "m", "messages": messages, "tools": TOOLS, "tool_choice": "required"})
    assert done["choices"][0]["finish_reason"] == "tool_calls"  # required always calls a tool
    assert (await _send({"model": "m", "messages": messages, "tools": TOOLS}))["choices"][0][
        "finish_reason"
    ] == "stop"


async def test_a_new_user_message_starts_a_new_turn_of_tool_calls() -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": QUESTION}]
    _answer(messages, (await _send(_chat(tools=[WEATHER])))["choices"][0]["message"])
    messages.append({"role": "assistant", "content": "It is sunny."})
    messages.append({"role": "user", "content": "And in Rome?"})
    body = await _send({"model": "m", "messages": messages, "tools": [WEATHER]})
    call = body["choices"][0]["message"]["tool_calls"][0]
    assert json.loads(call["function"]["arguments"])["city"] == "Rome"


async def test_tools_can_be_switched_off() -> None:
    body = await _send(_chat(tools=TOOLS), tool_calls=False, content="plain")
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "plain"}


async def test_streamed_tool_calls_use_openai_delta_shapes() -> None:
    chunks = await _chunks(_chat(tools=TOOLS, parallel_tool_calls=True, stream=True))
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0]["role"] == "assistant"
    assert deltas[0]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": ""}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    calls: dict[int, dict[str, str]] = {}
    for delta in deltas:
        for part in delta.get("tool_calls", []):
            call = calls.setdefault(part["index"], {"id": "", "name": "", "arguments": ""})
            call["id"] += part.get("id", "")
            call["name"] += part.get("function", {}).get("name", "")
            call["arguments"] += part["function"].get("arguments", "")
    assert [c["name"] for c in calls.values()] == ["get_weather", "get_time"]
    assert json.loads(calls[0]["arguments"]) == {"city": "Paris", "unit": "celsius"}
    whole = (await _send(_chat(tools=TOOLS, parallel_tool_calls=True)))["choices"][0]["message"]["tool_calls"]
    assert [c["id"] for c in whole] == [c["id"] for c in calls.values()]


@pytest.mark.parametrize(
    ("messages", "needle"),
    [
        (
            [
                {"role": "user", "content": "hi"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                    ],
                },
            ],
            "call_1",
        ),
        (
            [{"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "call_9", "content": "x"}],
            "call_9",
        ),
    ],
)
async def test_unanswered_or_orphan_tool_messages_are_a_400(
    messages: list[dict[str, Any]], needle: str
) -> None:
    with pytest.raises(UpstreamError) as caught:
        await _send({"model": "m", "messages": messages, "tools": TOOLS})
    assert needle in _bad(caught, "messages")


# --- response_format ---------------------------------------------------------------------------------


async def test_response_format_json_schema_gives_a_valid_instance() -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "temperatures": {
                "type": "array",
                "items": {"type": "number", "minimum": -50, "maximum": 60},
                "minItems": 3,
            },
            "advice": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        "required": ["city", "temperatures", "advice"],
        "additionalProperties": False,
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "forecast", "strict": True, "schema": schema}}
    body = await _send(_chat(response_format=fmt))
    value = json.loads(body["choices"][0]["message"]["content"])
    jsonschema.validate(value, schema)
    assert value["city"] == "Paris"
    streamed = await _chunks(_chat(response_format=fmt, stream=True))
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in streamed if c["choices"])
    assert json.loads(text) == value
    obj = await _send(_chat(response_format={"type": "json_object"}), content="hello")
    assert json.loads(obj["choices"][0]["message"]["content"]) == {"answer": "hello"}


async def test_an_unsatisfiable_schema_is_a_400_not_a_crash() -> None:
    fmt = {
        "type": "json_schema",
        "json_schema": {"name": "x", "schema": {"type": "array", "minItems": 10**9}},
    }
    with pytest.raises(UpstreamError) as caught:
        await _send(_chat(response_format=fmt))
    assert "minItems" in _bad(caught, "response_format")
    bad_tool = {
        "type": "function",
        "function": {"name": "f", "parameters": {"type": "integer", "minimum": 3, "maximum": 1}},
    }
    with pytest.raises(UpstreamError) as tool:
        await _send(_chat(tools=[bad_tool]))
    assert "'f'" in _bad(tool, "tools")


# --- n, stop, max_tokens, logprobs, seed --------------------------------------------------------------


async def test_n_stop_and_max_tokens() -> None:
    body = await _send(_chat(n=3), content="one two three four")
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert body["usage"]["completion_tokens"] == 12
    cut = await _send(_chat(max_tokens=2), content="one two three four")
    assert (cut["choices"][0]["message"]["content"], cut["choices"][0]["finish_reason"]) == (
        "one two",
        "length",
    )
    assert cut["usage"]["completion_tokens"] == 2
    stopped = await _send(_chat(stop=["three", "zzz"]), content="one two three four")
    assert (stopped["choices"][0]["message"]["content"], stopped["choices"][0]["finish_reason"]) == (
        "one two ",
        "stop",
    )
    legacy = await _send(
        {"model": "m", "prompt": "p", "max_tokens": 1, "n": 2}, Operation.COMPLETIONS, content="a b"
    )
    assert [(c["text"], c["finish_reason"]) for c in legacy["choices"]] == [("a", "length"), ("a", "length")]
    chunks = await _chunks(_chat(n=2, max_tokens=1, stream=True), content="a b")
    finishes = [(c["choices"][0]["index"], c["choices"][0]["finish_reason"]) for c in chunks if c["choices"]]
    assert (0, "length") in finishes
    assert (1, "length") in finishes


async def test_logprobs_have_openai_shapes_and_match_between_json_and_stream() -> None:
    body = await _send(_chat(logprobs=True, top_logprobs=3, seed=1), content="hello mock world")
    entries = body["choices"][0]["logprobs"]["content"]
    assert [e["token"] for e in entries] == ["hello", " mock", " world"]
    for entry in entries:
        assert -2.6 < entry["logprob"] < 0
        assert entry["bytes"] == list(entry["token"].encode())
        assert len(entry["top_logprobs"]) == 3
        assert entry["top_logprobs"][0]["token"] == entry["token"]
        assert [t["logprob"] for t in entry["top_logprobs"]] == sorted(
            (t["logprob"] for t in entry["top_logprobs"]), reverse=True
        )
    chunks = await _chunks(
        _chat(logprobs=True, top_logprobs=3, seed=1, stream=True), content="hello mock world"
    )
    streamed = [
        e
        for c in chunks
        if c["choices"] and c["choices"][0].get("logprobs")
        for e in c["choices"][0]["logprobs"]["content"]
    ]
    assert streamed == entries
    legacy = await _send({"model": "m", "prompt": "p", "logprobs": 2}, Operation.COMPLETIONS, content="a b")
    lp = legacy["choices"][0]["logprobs"]
    assert lp["tokens"] == ["a", " b"]
    assert lp["text_offset"] == [0, 1]
    assert [len(t) for t in lp["top_logprobs"]] == [2, 2]


async def test_seed_gives_a_deterministic_fingerprint() -> None:
    a = await _send(_chat(seed=7, logprobs=True))
    b = await _send(_chat(seed=7, logprobs=True))
    c = await _send(_chat(seed=8, logprobs=True))
    assert a["system_fingerprint"] == b["system_fingerprint"] != c["system_fingerprint"]
    assert a["system_fingerprint"].startswith("fp_")
    assert a["choices"] == b["choices"]
    assert a["choices"][0]["logprobs"] != c["choices"][0]["logprobs"]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n": 0}, "n"),
        ({"n": 129}, "n"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"stop": [""]}, "stop"),
        ({"stop": 3}, "stop"),
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
        ({"seed": "7"}, "seed"),
        ({"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
        ({"tools": TOOLS, "tool_choice": "sometimes"}, "tool_choice"),
        ({"tools": [{"type": "function", "function": {}}]}, "tools"),
        ({"response_format": {"type": "yaml"}}, "response_format"),
    ],
)
async def test_fields_the_mock_cannot_honour_are_a_400_naming_them(
    fields: dict[str, Any], param: str
) -> None:
    with pytest.raises(UpstreamError) as caught:
        await _send(_chat(**fields))
    assert param in _bad(caught, param)


async def test_answers_too_large_to_build_are_a_400() -> None:
    with pytest.raises(UpstreamError) as many:
        await _send(_chat(n=128), content="word " * 40_000)
    assert "lower n" in _bad(many, "n")
    with pytest.raises(UpstreamError) as logprobs:
        await _send(_chat(n=100, logprobs=True, top_logprobs=20), content="word " * 200)
    assert "entries" in _bad(logprobs, "top_logprobs")
    tools = [{"type": "function", "function": {"name": f"f{i}"}} for i in range(129)]
    with pytest.raises(UpstreamError) as too_many:
        await _send(_chat(tools=tools))
    _bad(too_many, "tools")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 300) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=16,
)
FIELDS = (
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "stop",
    "n",
    "max_tokens",
    "logprobs",
)
FIELDS += ("top_logprobs", "seed", "messages")
MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "tool", "system"])},
    optional={"content": JSON, "tool_calls": JSON, "tool_call_id": JSON},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=5),
    st.lists(MESSAGE, min_size=1, max_size=4),
)
def test_any_request_gets_an_answer_or_a_clear_refusal(fields: dict[str, Any], messages: list[Any]) -> None:
    outcome = _plan_or_refusal({"model": "m", "messages": messages, **fields})
    if isinstance(outcome, MockRequestError):
        assert outcome.param in (*FIELDS, "messages")
        assert str(outcome)
    else:
        assert len(outcome.choices) >= 1


def _plan_or_refusal(payload: dict[str, Any]) -> MockAnswer | MockRequestError:
    try:
        return plan(payload, chat=True, content="hi there", echo=False, use_tools=True)
    except MockRequestError as exc:
        return exc


# --- embeddings ---------------------------------------------------------------------------------------


async def test_embeddings_base64_and_dimensions() -> None:
    floats = await _send({"model": "m", "input": ["a", "b"], "dimensions": 5}, Operation.EMBEDDINGS)
    b64 = await _send(
        {"model": "m", "input": ["a", "b"], "dimensions": 5, "encoding_format": "base64"},
        Operation.EMBEDDINGS,
    )
    for plain, packed in zip(floats["data"], b64["data"], strict=True):
        assert len(plain["embedding"]) == 5
        decoded = struct.unpack("<5f", base64.b64decode(packed["embedding"]))
        assert decoded == pytest.approx(plain["embedding"], rel=1e-6)
    longer = await _send({"model": "m", "input": ["a"], "dimensions": 7}, Operation.EMBEDDINGS)
    assert longer["data"][0]["embedding"][:5] == floats["data"][0]["embedding"]
    for fields, param in (
        ({"dimensions": 0}, "dimensions"),
        ({"encoding_format": "hex"}, "encoding_format"),
        ({"input": []}, "input"),
    ):
        with pytest.raises(UpstreamError) as caught:
            await _send({"model": "m", "input": "x", **fields}, Operation.EMBEDDINGS)
        _bad(caught, param)


# --- streaming: chunking, scripted failures, cut streams, latency --------------------------------------


async def test_chunking_groups_tokens_and_frames() -> None:
    provider = MockProvider()
    stream = provider.stream(
        _mock(content="a b c d e", chunk_tokens=2, frames_per_write=2),
        Operation.CHAT,
        _chat(stream=True),
        timeout_s=5,
    )
    writes = [w async for w in stream]
    assert [w.count(b"data: ") for w in writes] == [2, 2]
    texts = [
        json.loads(f[6:])["choices"][0]["delta"].get("content") for w in writes for f in w.split(b"\n\n") if f
    ]
    assert texts == ["a b", " c d", " e", None]


async def _outcome(provider: MockProvider, deployment: Deployment) -> UpstreamError | None:
    try:
        await provider.send(deployment, Operation.CHAT, _chat(), timeout_s=5)
    except UpstreamError as exc:
        return exc
    return None


async def test_a_script_fails_calls_in_order_then_answers() -> None:
    script = (
        MockStep(status=429, retry_after_s=2),
        MockStep(status=503, message="down for maintenance"),
        MockStep(),
    )
    provider, deployment = MockProvider(), _mock(script=script)
    outcomes = [await _outcome(provider, deployment) for _ in range(5)]
    assert [e.status_code if e else 200 for e in outcomes] == [429, 503, 200, 200, 200]
    limited, down = outcomes[0], outcomes[1]
    assert limited is not None
    assert (limited.retry_after_s, limited.retryable, limited.headers["Retry-After"]) == (2, True, "2")
    assert down is not None
    assert down.message == "down for maintenance"
    repeating, looped = MockProvider(), _mock(script=(MockStep(status=500), MockStep()), repeat_script=True)
    codes = [await _outcome(repeating, looped) for _ in range(4)]
    assert [e.status_code if e else 200 for e in codes] == [500, 200, 500, 200]


async def _drain(stream: Any, into: list[bytes]) -> None:
    async for chunk in stream:
        into.append(chunk)


async def test_a_scripted_cut_breaks_the_stream_after_its_chunks() -> None:
    provider = MockProvider()
    deployment = _mock(content="one two three four", script=(MockStep(cut_after=2),))
    received: list[bytes] = []
    stream = provider.stream(deployment, Operation.CHAT, _chat(stream=True), timeout_s=5)
    with pytest.raises(UpstreamError) as caught:
        await _drain(stream, received)
    assert len(received) == 2
    assert (caught.value.status_code, caught.value.retryable) == (502, True)
    assert "cut the stream" in caught.value.message
    assert len(await _chunks(_chat(stream=True), provider=provider, content="one two three four")) == 5
    with pytest.raises(UpstreamError, match="before answering"):
        await MockProvider().send(deployment, Operation.CHAT, _chat(), timeout_s=5)


async def test_latency_per_step_and_timeouts() -> None:
    provider, deployment = MockProvider(), _mock(script=(MockStep(latency_ms=2_000),))
    started = time.monotonic()
    with pytest.raises(UpstreamError) as caught:
        await provider.send(deployment, Operation.CHAT, _chat(), timeout_s=0.05)
    assert caught.value.status_code == 408
    assert time.monotonic() - started < 1
    await provider.send(deployment, Operation.CHAT, _chat(), timeout_s=0.05)  # the script is over: no delay
