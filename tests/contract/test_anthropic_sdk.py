"""The official `anthropic` SDK, unmodified, against `routeiq serve` on a real socket.

Upstreams: the built-in mock provider, and a local OpenAI-compatible server that calls tools
(ToolUpstream) reached through the native adapter; every Messages call is translated to chat and
back. Keys: the master key (the SDK's ``api_key``), and virtual keys sent as ``x-api-key``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import anyio
import httpx
import pytest

from tests.support.gateway_process import GatewayProcess
from tests.support.tool_upstream import CALL_ID, TOOL_ARGUMENTS, ToolUpstream, final_text

pytestmark = pytest.mark.slow

MASTER = "sk-anthropic-master-key-0123456789"
MOCK_TEXT = "Hello from the mock"
UPSTREAM_TEXT = "Hello from upstream"
HI: Any = [{"role": "user", "content": "hi"}]
WEATHER: Any = {
    "name": "get_weather",
    "description": "The current weather in a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["city"],
    },
}
QUESTION: Any = [{"role": "user", "content": "What is the weather in Oslo?"}]


def config(upstream: str) -> str:
    def via(name: str, model: str) -> str:
        params = f"{{model: openai/{model}, api_base: '{upstream}', api_key: sk-up}}"
        return f"  - model_name: {name}\n    litellm_params: {params}"

    return "\n".join(
        [
            "model_list:",
            "  - model_name: mock",
            f"    litellm_params: {{model: mock/m, mock: {{content: '{MOCK_TEXT}'}}}}",
            via("up", "plain"),
            via("tools", "tool-model"),
            via("limited", "error-429"),
            via("cut", "cut-stream"),
            "resilience: {num_retries: 0}",
        ]
    )


@pytest.fixture(scope="module")
def upstream() -> Iterator[ToolUpstream]:
    up = ToolUpstream()
    up.start()
    yield up
    up.stop()


@pytest.fixture(scope="module")
def gateway(upstream: ToolUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    keys = tmp_path_factory.mktemp("anthropic") / "keys.db"
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": str(keys)}
    with GatewayProcess(config(upstream.base_url), env=env) as gw:
        yield gw
        assert "Traceback" not in gw.log(), gw.log()[-4000:]


@pytest.fixture
def client(gateway: GatewayProcess) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.base_url, api_key=MASTER, max_retries=0, timeout=10)


def virtual_key(gateway: GatewayProcess, models: list[str]) -> str:
    issued = httpx.post(
        f"{gateway.base_url}/admin/keys",
        json={"models": models},
        headers={"Authorization": f"Bearer {MASTER}"},
        timeout=10,
    )
    assert issued.status_code == 201, issued.text
    return str(issued.json()["key"])


def error_type(error: anthropic.APIStatusError) -> str:
    """The ``error.type`` of an Anthropic error body."""
    body: Any = error.body
    return str(body["error"]["type"])


def text_of(message: Any) -> str:
    """The text blocks of a message, joined."""
    return "".join(block.text for block in message.content if block.type == "text")


def with_x_api_key(gateway: GatewayProcess, key: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=gateway.base_url, default_headers={"x-api-key": key}, max_retries=0, timeout=10
    )


def test_create_against_the_mock(client: anthropic.Anthropic) -> None:
    raw = client.messages.with_raw_response.create(model="mock", max_tokens=64, messages=HI)
    message = raw.parse()
    assert [block.type for block in message.content] == ["text"]
    assert text_of(message) == MOCK_TEXT
    assert message.stop_reason == "end_turn"
    assert message.role == "assistant"
    assert message.id.startswith("msg_")
    assert message.usage.input_tokens > 0
    assert message.usage.output_tokens > 0
    assert raw.headers["request-id"] == raw.headers["x-request-id"]
    assert message._request_id == raw.headers["request-id"]
    assert raw.headers["x-routeiq-model-group"] == "mock"


def test_stream_text_from_the_mock(client: anthropic.Anthropic) -> None:
    with client.messages.stream(model="mock", max_tokens=64, messages=HI) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == MOCK_TEXT
    assert text_of(final) == MOCK_TEXT
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0


def test_create_against_an_openai_compatible_upstream(
    client: anthropic.Anthropic, upstream: ToolUpstream
) -> None:
    message = client.messages.create(
        model="up",
        max_tokens=32,
        system="Answer briefly.",
        messages=HI,
        stop_sequences=["END"],
        extra_body={"temperature": 0.2},  # this SDK version has no temperature argument; the API does
        metadata={"user_id": "user-7"},
    )
    assert text_of(message) == UPSTREAM_TEXT
    assert (message.usage.input_tokens, message.usage.output_tokens) == (5, 3)
    sent = upstream.requests[-1]["json"]
    assert sent["messages"] == [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "hi"},
    ]
    assert (sent["max_tokens"], sent["stop"], sent["temperature"], sent["user"]) == (
        32,
        ["END"],
        0.2,
        "user-7",
    )
    assert upstream.requests[-1]["authorization"] == "Bearer sk-up"  # the client's key never goes upstream


def test_stream_text_from_an_openai_compatible_upstream(client: anthropic.Anthropic) -> None:
    with client.messages.stream(model="up", max_tokens=32, messages=HI) as stream:
        events = [event.type for event in stream]
        final = stream.get_final_message()
    assert text_of(final) == UPSTREAM_TEXT
    assert events[0] == "message_start"
    assert events[-1] == "message_stop"
    assert "content_block_delta" in events
    assert (final.usage.input_tokens, final.usage.output_tokens) == (5, 3)


def test_a_tool_round_trip(client: anthropic.Anthropic, upstream: ToolUpstream) -> None:
    first = client.messages.create(model="tools", max_tokens=64, tools=[WEATHER], messages=QUESTION)
    assert first.stop_reason == "tool_use"
    (call,) = [b for b in first.content if b.type == "tool_use"]
    assert (call.id, call.name, call.input) == (CALL_ID, "get_weather", TOOL_ARGUMENTS)
    result = {"type": "tool_result", "tool_use_id": call.id, "content": "-3 C"}
    conversation = [
        *QUESTION,
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [result]},
    ]
    final = client.messages.create(model="tools", max_tokens=64, tools=[WEATHER], messages=conversation)
    assert final.stop_reason == "end_turn"
    assert text_of(final) == final_text("-3 C")
    sent = upstream.requests[-1]["json"]["messages"]
    assert sent[1]["tool_calls"][0]["id"] == CALL_ID
    assert sent[2] == {"role": "tool", "tool_call_id": CALL_ID, "content": "-3 C"}


def test_a_streamed_tool_round_trip(client: anthropic.Anthropic) -> None:
    with client.messages.stream(model="tools", max_tokens=64, tools=[WEATHER], messages=QUESTION) as stream:
        fragments = [event.partial_json for event in stream if event.type == "input_json"]
        first = stream.get_final_message()
    assert len(fragments) == 3
    assert first.stop_reason == "tool_use"
    (call,) = [b for b in first.content if b.type == "tool_use"]
    assert call.input == TOOL_ARGUMENTS
    result = {"type": "tool_result", "tool_use_id": call.id, "content": [{"type": "text", "text": "-3 C"}]}
    conversation = [
        *QUESTION,
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [result]},
    ]
    with client.messages.stream(
        model="tools", max_tokens=64, tools=[WEATHER], messages=conversation
    ) as stream:
        text = "".join(stream.text_stream)
    assert text == final_text("-3 C")


def test_the_async_client(gateway: GatewayProcess) -> None:
    async def main() -> tuple[str, str]:
        async with anthropic.AsyncAnthropic(base_url=gateway.base_url, api_key=MASTER, max_retries=0) as ac:
            done = await ac.messages.create(model="up", max_tokens=16, messages=HI)
            async with ac.messages.stream(model="mock", max_tokens=16, messages=HI) as stream:
                streamed = await stream.get_final_text()
        return text_of(done), streamed

    assert anyio.run(main) == (UPSTREAM_TEXT, MOCK_TEXT)


def test_a_virtual_key_as_x_api_key(gateway: GatewayProcess) -> None:
    client = with_x_api_key(gateway, virtual_key(gateway, ["mock"]))
    message = client.messages.create(model="mock", max_tokens=16, messages=HI)
    assert text_of(message) == MOCK_TEXT
    with pytest.raises(anthropic.PermissionDeniedError) as denied:
        client.messages.create(model="up", max_tokens=16, messages=HI)
    assert error_type(denied.value) == "permission_error"


@pytest.mark.parametrize("key", ["sk-riq-not-a-real-key", "sk-wrong"])
def test_a_bad_key_is_an_authentication_error(gateway: GatewayProcess, key: str) -> None:
    with pytest.raises(anthropic.AuthenticationError) as refused:
        with_x_api_key(gateway, key).messages.create(model="mock", max_tokens=16, messages=HI)
    assert refused.value.status_code == 401
    body: Any = refused.value.body
    assert body["type"] == "error"
    assert body["error"]["type"] == "authentication_error"
    assert body["request_id"] == refused.value.request_id


def test_no_key_is_an_authentication_error(gateway: GatewayProcess) -> None:
    r = httpx.post(f"{gateway.base_url}/v1/messages", json={"model": "mock", "max_tokens": 5, "messages": HI})
    assert r.status_code == 401
    assert r.json()["error"]["type"] == "authentication_error"
    assert "x-api-key" in r.json()["error"]["message"]


def test_count_tokens(client: anthropic.Anthropic) -> None:
    plain = client.messages.count_tokens(model="mock", messages=QUESTION)
    with_tools = client.messages.count_tokens(
        model="mock", system="Be brief.", tools=[WEATHER], messages=QUESTION
    )
    assert 0 < plain.input_tokens < with_tools.input_tokens
    with pytest.raises(anthropic.NotFoundError) as missing:
        client.messages.count_tokens(model="nope", messages=QUESTION)
    assert error_type(missing.value) == "not_found_error"


def test_count_tokens_needs_a_key(gateway: GatewayProcess) -> None:
    with pytest.raises(anthropic.AuthenticationError):
        with_x_api_key(gateway, "sk-wrong").messages.count_tokens(model="mock", messages=QUESTION)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"max_tokens": 0}, "max_tokens"),
        ({"temperature": 3}, "temperature"),
        ({"messages": [{"role": "user", "content": [{"type": "video"}]}]}, "messages[0].content[0].type"),
    ],
)
def test_validation_errors(client: anthropic.Anthropic, body: dict[str, Any], says: str) -> None:
    request = {"model": "mock", "max_tokens": 16, "messages": HI, **body}
    with pytest.raises(anthropic.BadRequestError) as refused:
        client.post("/v1/messages", body=request, cast_to=anthropic.types.Message)
    error: Any = refused.value.body
    assert error["error"]["type"] == "invalid_request_error"
    assert says in error["error"]["message"]


def test_malformed_json_and_wrong_methods(gateway: GatewayProcess) -> None:
    headers = {"x-api-key": MASTER, "content-type": "application/json"}
    r = httpx.post(f"{gateway.base_url}/v1/messages", content=b"{not json", headers=headers)
    assert (r.status_code, r.json()["error"]["type"]) == (400, "invalid_request_error")
    assert r.headers["request-id"] == r.headers["x-request-id"]
    r = httpx.get(f"{gateway.base_url}/v1/messages", headers=headers)
    assert (r.status_code, r.json()["type"], r.headers["allow"]) == (405, "error", "POST")


def test_upstream_errors(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.RateLimitError) as limited:
        client.messages.create(model="limited", max_tokens=16, messages=HI)
    assert error_type(limited.value) == "rate_limit_error"
    cut = client.messages.stream(model="cut", max_tokens=16, messages=HI)
    with cut as stream, pytest.raises(anthropic.APIStatusError, match="api_error"):
        stream.until_done()


def test_the_openapi_document_describes_the_messages_calls(gateway: GatewayProcess) -> None:
    doc = httpx.get(f"{gateway.base_url}/schema/openapi.json", timeout=10).json()
    for path in ("/v1/messages", "/v1/messages/count_tokens"):
        operation = doc["paths"][path]["post"]
        assert operation["tags"] == ["anthropic"]
        assert {"200", "400", "401", "429"} <= set(operation["responses"])


def test_the_gateway_counts_the_anthropic_surface(gateway: GatewayProcess) -> None:
    text = httpx.get(
        f"{gateway.base_url}/metrics", headers={"Authorization": f"Bearer {MASTER}"}, timeout=10
    ).text
    assert 'surface="anthropic"' in text
