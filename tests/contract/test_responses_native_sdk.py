"""Native Responses forwarding: the official `openai` SDK, `routeiq serve` (two workers), a fake upstream.

A deployment that declares ``supports_responses`` gets ``/v1/responses`` calls as sent and answers
as it wrote them (its own response ids, fields no SDK models, its event order); the gateway stores
them too, so retrieve, input items and ``previous_response_id`` work through it on either worker.
Continuing on the deployment that made the previous response forwards the id; continuing anywhere
else spells the conversation out (another native upstream) or translates it (a chat upstream).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import httpx2
import openai
import pytest

from tests.support.fake_responses_upstream import EXTRA, FakeResponsesUpstream
from tests.support.fake_upstream import TEXT as CHAT_TEXT
from tests.support.fake_upstream import FakeUpstream
from tests.support.gateway_process import GatewayProcess

pytestmark = pytest.mark.slow

MASTER = "sk-responses-native-master-0123456789"
PRICES = "input_cost_per_token: 0.001, output_cost_per_token: 0.002"
COST = 9 * 0.001 + 4 * 0.002


def config(native: str, chat: str) -> str:
    def entry(name: str, model: str) -> str:
        params = f"{{model: openai/{model}, api_base: '{native}', api_key: sk-oa-up, {PRICES}}}"
        info = "model_info: {supports_responses: true}"
        return f"  - model_name: {name}\n    litellm_params: {params}\n    {info}"

    return "\n".join(
        [
            "server: {workers: 2}",
            "model_list:",
            entry("gpt", "gpt-fake"),
            entry("gpt-stream", "gpt-fake"),
            entry("gpt-other", "gpt-other"),
            entry("gpt-down", "error-500"),
            entry("gpt-cut", "cut-stream"),
            "  - model_name: chat-up",
            f"    litellm_params: {{model: openai/plain, api_base: '{chat}', api_key: sk-up}}",
            "routing:",
            "  fallbacks: [{gpt-down: [chat-up]}]",
            "resilience: {num_retries: 0}",
        ]
    )


@pytest.fixture(scope="module")
def native() -> Iterator[FakeResponsesUpstream]:
    with FakeResponsesUpstream() as up:
        yield up


@pytest.fixture(scope="module")
def chat() -> Iterator[FakeUpstream]:
    with FakeUpstream() as up:
        yield up


@pytest.fixture(scope="module")
def gateway(
    native: FakeResponsesUpstream, chat: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    keys = tmp_path_factory.mktemp("responses-native") / "keys.db"
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": str(keys)}
    with GatewayProcess(config(native.base_url, chat.base_url), env=env) as gw:
        yield gw
        assert "Traceback" not in gw.log(), gw.log()[-4000:]


def client_for(gateway: GatewayProcess) -> openai.OpenAI:
    """A client on a connection of its own (the next request may reach the other worker)."""
    http = openai.DefaultHttpxClient(limits=httpx2.Limits(max_keepalive_connections=0), timeout=10)
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=MASTER, max_retries=0, http_client=http)


@pytest.fixture
def client(gateway: GatewayProcess) -> openai.OpenAI:
    return client_for(gateway)


def spend_of(gateway: GatewayProcess, group: str) -> dict[str, Any]:
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
    client: openai.OpenAI, native: FakeResponsesUpstream
) -> None:
    raw = client.responses.with_raw_response.create(
        model="gpt", input="hi", extra_body={"x_client_field": 1, "include": ["reasoning.encrypted_content"]}
    )
    response = raw.parse()
    assert response.id.startswith("resp_up")  # the upstream's id, as it wrote it
    assert response.output_text == "Hello from Responses (1 input items, previous none)"
    assert [item.type for item in response.output] == [
        "reasoning",
        "message",
    ]  # an item chat has no place for
    assert raw.http_response.json()["x_upstream"] == EXTRA
    assert (response.usage.input_tokens, response.usage.output_tokens) == (9, 4)
    assert float(raw.headers["x-routeiq-cost"]) == pytest.approx(COST)
    sent = native.requests[-1]
    assert sent["path"] == "/v1/responses"
    assert (sent["json"]["x_client_field"], sent["json"]["model"]) == (1, "gpt-fake")
    assert sent["json"]["include"] == ["reasoning.encrypted_content"]
    assert sent["headers"]["Authorization"] == "Bearer sk-oa-up"
    stored = client_for_retrieve(client, response.id)
    assert stored["x_upstream"] == EXTRA  # retrieved through the gateway, the upstream's JSON as is


def client_for_retrieve(client: openai.OpenAI, response_id: str) -> dict[str, Any]:
    retrieved: dict[str, Any] = client.responses.with_raw_response.retrieve(response_id).http_response.json()
    return retrieved


def test_stream_is_relayed_event_for_event_and_metered(
    client: openai.OpenAI, gateway: GatewayProcess
) -> None:
    with client.responses.stream(model="gpt-stream", input="hi") as stream:
        events = [event.type for event in stream]
        final = stream.get_final_response()
    assert events == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert final.id.startswith("resp_up")
    spend = spend_of(gateway, "gpt-stream")
    assert (spend["requests"], spend["prompt_tokens"], spend["completion_tokens"]) == (1, 9, 4)
    assert spend["cost"] == pytest.approx(COST)
    assert client_for(gateway).responses.retrieve(final.id).output_text == final.output_text  # stored


def test_previous_response_id_on_the_same_deployment_is_forwarded(
    gateway: GatewayProcess, native: FakeResponsesUpstream
) -> None:
    for i in range(4):  # each turn on a connection of its own: the two workers take turns
        first = client_for(gateway).responses.create(model="gpt", input=f"first {i}")
        second = client_for(gateway).responses.create(
            model="gpt", input=f"second {i}", previous_response_id=first.id
        )
        assert second.output_text == f"Hello from Responses (1 input items, previous {first.id})"
        assert native.requests[-1]["json"]["previous_response_id"] == first.id
        items = client_for(gateway).responses.input_items.list(second.id, order="asc")
        texts = ["".join(getattr(p, "text", "") for p in item.content) for item in items.data]
        assert texts == [f"first {i}", "Hello from Responses (1 input items, previous none)", f"second {i}"]


def test_previous_response_id_on_another_native_deployment_spells_the_conversation_out(
    client: openai.OpenAI, native: FakeResponsesUpstream
) -> None:
    first = client.responses.create(model="gpt", input="first")
    second = client.responses.create(model="gpt-other", input="second", previous_response_id=first.id)
    assert second.output_text == "Hello from Responses (3 input items, previous none)"
    sent = native.requests[-1]["json"]
    assert "previous_response_id" not in sent
    assert [item["role"] for item in sent["input"]] == ["user", "assistant", "user"]  # no reasoning item


def test_previous_response_id_across_modes(client: openai.OpenAI, chat: FakeUpstream) -> None:
    native_first = client.responses.create(model="gpt", input="first")
    translated = client.responses.create(
        model="chat-up", input="second", previous_response_id=native_first.id
    )
    assert translated.output_text == CHAT_TEXT
    sent = chat.requests[-1]["json"]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"] == "Hello from Responses (1 input items, previous none)"
    back = client.responses.create(model="gpt", input="third", previous_response_id=translated.id)
    assert back.output_text == "Hello from Responses (5 input items, previous none)"


def test_a_failing_native_deployment_falls_back_to_a_translated_one(client: openai.OpenAI) -> None:
    raw = client.responses.with_raw_response.create(model="gpt-down", input="hi")
    response = raw.parse()
    assert response.output_text == CHAT_TEXT
    assert response.id.startswith("resp_")
    assert raw.headers["x-routeiq-deployment"] == "chat-up-0"
    with client.responses.stream(model="gpt-down", input="hi") as stream:
        assert stream.get_final_response().output_text == CHAT_TEXT


def test_a_native_stream_cut_mid_way_ends_with_an_error_event(gateway: GatewayProcess) -> None:
    body = {"model": "gpt-cut", "input": "hi", "stream": True}
    headers = {"Authorization": f"Bearer {MASTER}"}
    with httpx.stream(
        "POST", f"{gateway.base_url}/v1/responses", json=body, headers=headers, timeout=10
    ) as r:
        raw = b"".join(r.iter_bytes())
    assert raw.startswith(b"event: response.created")
    assert raw.rstrip().split(b"\n\n")[-1].startswith(b"event: error\ndata: ")
