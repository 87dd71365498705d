"""Native Messages forwarding: the official `anthropic` SDK, `routeiq serve`, a fake Anthropic upstream.

An ``anthropic/...`` deployment speaks Messages, so ``/v1/messages`` calls go to it as sent and its
answers come back as they came (fields no SDK models included, event order kept); usage and spend
are the upstream's. A native deployment that fails falls back to an OpenAI-compatible one, whose
chat answer is translated: the client hears Messages either way.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from tests.support.fake_anthropic_upstream import EXTRA, TEXT, TOOL_ANSWER, TOOL_INPUT, FakeAnthropicUpstream
from tests.support.fake_upstream import TEXT as CHAT_TEXT
from tests.support.fake_upstream import FakeUpstream
from tests.support.gateway_process import GatewayProcess

pytestmark = pytest.mark.slow

MASTER = "sk-anthropic-native-master-0123456789"
HI: Any = [{"role": "user", "content": "hi"}]
WEATHER: Any = {
    "name": "get_weather",
    "description": "The current weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
PRICES = "input_cost_per_token: 0.001, output_cost_per_token: 0.002"
COST = 13 * 0.001 + 7 * 0.002
"""What one native answer costs: 13 prompt tokens (11 + 2 cached) and 7 completion tokens."""


def config(claude: str, chat: str) -> str:
    def native(name: str, model: str) -> str:
        params = f"{{model: anthropic/{model}, api_base: '{claude}', api_key: sk-ant-up, {PRICES}}}"
        return f"  - model_name: {name}\n    litellm_params: {params}"

    return "\n".join(
        [
            "model_list:",
            native("claude", "claude-fake"),
            native("claude-stream", "claude-fake"),
            native("claude-tools", "tool-model"),
            native("claude-down", "error-500"),
            native("claude-cut", "cut-stream"),
            "  - model_name: chat-up",
            f"    litellm_params: {{model: openai/plain, api_base: '{chat}', api_key: sk-up}}",
            "routing:",
            "  fallbacks: [{claude-down: [chat-up]}]",
            "resilience: {num_retries: 0}",
        ]
    )


@pytest.fixture(scope="module")
def claude() -> Iterator[FakeAnthropicUpstream]:
    with FakeAnthropicUpstream() as up:
        yield up


@pytest.fixture(scope="module")
def chat() -> Iterator[FakeUpstream]:
    with FakeUpstream() as up:
        yield up


@pytest.fixture(scope="module")
def gateway(claude: FakeAnthropicUpstream, chat: FakeUpstream) -> Iterator[GatewayProcess]:
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER}
    with GatewayProcess(config(claude.origin, chat.base_url), env=env) as gw:
        yield gw
        assert "Traceback" not in gw.log(), gw.log()[-4000:]


@pytest.fixture
def client(gateway: GatewayProcess) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.base_url, api_key=MASTER, max_retries=0, timeout=10)


def text_of(message: Any) -> str:
    return "".join(block.text for block in message.content if block.type == "text")


def spend_of(gateway: GatewayProcess, group: str) -> dict[str, Any]:
    """The group's spend totals, once the ledger has the call (it records asynchronously)."""
    deadline = time.monotonic() + 5
    while True:
        report = httpx.get(
            f"{gateway.base_url}/admin/spend",
            params={"model_group": group},
            headers={"Authorization": f"Bearer {MASTER}"},
            timeout=5,
        ).json()
        if report["total"]["requests"] or time.monotonic() > deadline:
            return dict(report["total"])
        time.sleep(0.05)


def test_create_is_forwarded_as_sent_and_answered_as_it_came(
    client: anthropic.Anthropic, claude: FakeAnthropicUpstream
) -> None:
    raw = client.messages.with_raw_response.create(
        model="claude",
        max_tokens=32,
        messages=HI,
        extra_body={"x_client_field": {"a": 1}},
        extra_headers={"anthropic-beta": "fake-beta-2025"},
    )
    message = raw.parse()
    assert text_of(message) == TEXT
    assert message.id == "msg_fake1"  # the upstream's own id: nothing was rebuilt
    assert (message.usage.input_tokens, message.usage.output_tokens) == (11, 7)
    assert raw.http_response.json()["x_upstream"] == EXTRA  # a field no SDK models survives
    assert raw.headers["x-routeiq-deployment"] == "claude-0"
    assert float(raw.headers["x-routeiq-cost"]) == pytest.approx(COST)
    sent = claude.requests[-1]
    assert sent["json"]["x_client_field"] == {"a": 1}  # and the client's unknown field went upstream
    assert sent["json"]["model"] == "claude-fake"  # the upstream's model name, LiteLLM's prefix gone
    assert sent["headers"]["x-api-key"] == "sk-ant-up"  # the deployment's key, never the client's
    assert sent["headers"]["anthropic-version"] == raw.http_request.headers["anthropic-version"]
    assert sent["headers"]["anthropic-beta"] == "fake-beta-2025"
    assert "Authorization" not in sent["headers"]


def test_stream_is_relayed_event_for_event_and_metered(
    client: anthropic.Anthropic, gateway: GatewayProcess
) -> None:
    with client.messages.stream(model="claude-stream", max_tokens=32, messages=HI) as stream:
        events = [event.type for event in stream]
        final = stream.get_final_message()
    assert text_of(final) == TEXT
    assert (final.usage.input_tokens, final.usage.output_tokens) == (11, 7)
    assert events[0] == "message_start"
    assert events[-1] == "message_stop"
    spend = spend_of(gateway, "claude-stream")
    assert (spend["requests"], spend["prompt_tokens"], spend["completion_tokens"]) == (1, 13, 7)
    assert spend["cost"] == pytest.approx(COST)


def test_the_raw_stream_is_byte_for_byte_the_upstreams(gateway: GatewayProcess) -> None:
    body = {"model": "claude", "max_tokens": 16, "messages": HI, "stream": True}
    with httpx.stream(
        "POST", f"{gateway.base_url}/v1/messages", json=body, headers={"x-api-key": MASTER}, timeout=10
    ) as response:
        raw = b"".join(response.iter_bytes())
    names = [line[7:] for line in raw.split(b"\n") if line.startswith(b"event: ")]
    assert names[:2] == [b"message_start", b"ping"]  # the upstream's ping kept, in its place
    assert names[-2:] == [b"message_delta", b"message_stop"]
    assert b'"x_upstream":{"kept":true}' in raw
    assert b"[DONE]" not in raw


def test_a_native_tool_round_trip(client: anthropic.Anthropic) -> None:
    question: Any = [{"role": "user", "content": "What is the weather in Oslo?"}]
    with client.messages.stream(model="claude-tools", max_tokens=64, tools=[WEATHER], messages=question) as s:
        first = s.get_final_message()
    (call,) = [b for b in first.content if b.type == "tool_use"]
    assert (first.stop_reason, call.input) == ("tool_use", TOOL_INPUT)
    result = {"type": "tool_result", "tool_use_id": call.id, "content": "sunny"}
    turn: Any = [
        *question,
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [result]},
    ]
    final = client.messages.create(model="claude-tools", max_tokens=64, tools=[WEATHER], messages=turn)
    assert text_of(final) == TOOL_ANSWER


def test_a_failing_native_deployment_falls_back_to_a_translated_one(
    client: anthropic.Anthropic, chat: FakeUpstream
) -> None:
    raw = client.messages.with_raw_response.create(model="claude-down", max_tokens=16, messages=HI)
    message = raw.parse()
    assert text_of(message) == CHAT_TEXT  # the chat upstream's answer, as a Message
    assert message.id.startswith("msg_")
    assert raw.headers["x-routeiq-deployment"] == "chat-up-0"
    assert chat.requests[-1]["json"]["messages"] == [{"role": "user", "content": "hi"}]
    with client.messages.stream(model="claude-down", max_tokens=16, messages=HI) as stream:
        assert "".join(stream.text_stream) == CHAT_TEXT


def test_a_native_stream_cut_mid_way_ends_with_an_error_event(gateway: GatewayProcess) -> None:
    body = {"model": "claude-cut", "max_tokens": 16, "messages": HI, "stream": True}
    with httpx.stream(
        "POST", f"{gateway.base_url}/v1/messages", json=body, headers={"x-api-key": MASTER}, timeout=10
    ) as response:
        raw = b"".join(response.iter_bytes())
    assert raw.startswith(b"event: message_start")
    assert raw.rstrip().split(b"\n\n")[-1].startswith(b"event: error\ndata: ")
    assert b'"type":"api_error"' in raw
