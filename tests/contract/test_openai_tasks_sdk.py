"""Moderations, image generation and rerank through `routeiq serve`, with the official `openai` SDK.

Each runs against the built-in mock and against a local OpenAI-compatible server (FakeUpstream)
through the native adapter; a model group configured for another operation answers 400.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.fake_upstream_tasks import IMAGE_B64, IMAGE_USAGE
from tests.support.gateway_process import GatewayProcess

pytestmark = pytest.mark.slow


def config(upstream: str) -> str:
    return f"""
model_list:
  - model_name: mock
    litellm_params: {{model: mock/m}}
  - model_name: chat-only
    litellm_params: {{model: mock/c}}
    model_info: {{mode: chat}}
  - model_name: up
    litellm_params: {{model: openai/plain, api_base: '{upstream}', api_key: sk-upstream}}
  - model_name: mixed
    litellm_params: {{model: openai/plain, api_base: '{upstream}', api_key: sk-upstream}}
    model_info: {{id: mixed-chat, mode: chat}}
  - model_name: mixed
    litellm_params: {{model: mock/images}}
    model_info: {{id: mixed-images, mode: image_generation}}
  - model_name: priced
    litellm_params: {{model: mock/p}}
    model_info: {{input_price_per_mtok: 1000000, output_price_per_mtok: 2000000}}
  - model_name: broken
    litellm_params: {{model: openai/error-500, api_base: '{upstream}', api_key: sk-upstream}}
resilience: {{num_retries: 0}}
"""


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as up:
        yield up


@pytest.fixture(scope="module")
def gateway(upstream: FakeUpstream) -> Iterator[GatewayProcess]:
    with GatewayProcess(config(upstream.base_url)) as gw:
        yield gw


@pytest.fixture
def client(gateway: GatewayProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key="unused", max_retries=0, timeout=10)


def test_moderation_from_the_mock_flags_its_keywords(client: openai.OpenAI) -> None:
    raw = client.moderations.with_raw_response.create(
        model="mock", input=["have a nice day", "I will kill it"]
    )
    answer = raw.parse()
    assert [r.flagged for r in answer.results] == [False, True]
    assert answer.results[1].categories.violence is True
    assert raw.headers["x-routeiq-deployment"] == "mock-0"


def test_moderation_through_the_openai_adapter(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    answer = client.moderations.create(model="up", input="hello")
    assert answer.id == "modr-fake"
    sent = upstream.requests[-1]
    assert sent["path"] == "/v1/moderations"
    assert sent["json"] == {"model": "plain", "input": "hello"}  # no stream field added


def test_image_from_the_mock_is_a_png(client: openai.OpenAI) -> None:
    answer = client.images.generate(model="mock", prompt="a red fox", n=2, response_format="b64_json")
    assert answer.data is not None
    assert len(answer.data) == 2
    first = base64.b64decode(answer.data[0].b64_json or "")
    assert first.startswith(b"\x89PNG\r\n\x1a\n")
    again = client.images.generate(model="mock", prompt="a red fox", response_format="b64_json")
    assert again.data is not None
    assert again.data[0].b64_json == answer.data[0].b64_json


def test_image_through_the_openai_adapter_reports_its_usage(client: openai.OpenAI) -> None:
    raw = client.images.with_raw_response.generate(model="up", prompt="a fox")
    answer = raw.parse()
    assert answer.data is not None
    assert answer.data[0].b64_json == IMAGE_B64
    assert answer.usage is not None
    assert answer.usage.total_tokens == IMAGE_USAGE["total_tokens"]


def test_rerank_with_the_mock_and_the_upstream(gateway: GatewayProcess, upstream: FakeUpstream) -> None:
    body = {
        "model": "mock",
        "query": "capital of france",
        "documents": ["Berlin is in Germany", "Paris is the capital of France", "bananas"],
        "top_n": 2,
        "return_documents": True,
    }
    answer = httpx.post(f"{gateway.base_url}/v1/rerank", json=body, timeout=10).json()
    assert [r["index"] for r in answer["results"]] == [1, 0]
    assert answer["results"][0]["document"] == {"text": "Paris is the capital of France"}
    via = httpx.post(f"{gateway.base_url}/rerank", json=body | {"model": "up"}, timeout=10)
    assert via.status_code == 200
    assert [r["index"] for r in via.json()["results"]] == [2, 1]
    assert upstream.requests[-1]["path"] == "/v1/rerank"


def test_a_group_that_cannot_serve_the_operation_answers_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(model="chat-only", prompt="a fox")
    assert caught.value.code == "unsupported_operation"
    assert "images" in caught.value.message
    assert "chat" in caught.value.message


def test_a_mixed_group_routes_each_operation_to_a_deployment_that_serves_it(client: openai.OpenAI) -> None:
    raw = client.images.with_raw_response.generate(model="mixed", prompt="a fox")
    assert raw.headers["x-routeiq-deployment"] == "mixed-images"
    chat = client.chat.completions.with_raw_response.create(
        model="mixed", messages=[{"role": "user", "content": "hi"}]
    )
    assert chat.headers["x-routeiq-deployment"] == "mixed-chat"


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/moderations", {"model": "mock"}, "input"),
        ("/v1/images/generations", {"model": "mock", "prompt": "x", "n": 11}, "n"),
        ("/v1/images/generations", {"model": "mock", "prompt": "x", "stream": True}, "stream"),
        ("/v1/rerank", {"model": "mock", "query": "q", "documents": []}, "documents"),
        ("/v1/rerank", {"model": "mock", "query": "q", "documents": ["d"] * 10_001}, "documents"),
    ],
)
def test_hostile_or_incomplete_bodies_are_clear_400s(
    gateway: GatewayProcess, path: str, body: dict[str, object], param: str
) -> None:
    response = httpx.post(gateway.base_url + path, json=body, timeout=10)
    assert response.status_code == 400, response.text
    assert param in response.text


def test_an_upstream_failure_is_relayed(client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError):
        client.moderations.create(model="broken", input="x")


PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)


def test_image_edit_from_the_mock(client: openai.OpenAI) -> None:
    answer = client.images.edit(
        model="mock", image=("fox.png", PNG, "image/png"), prompt="add a hat", n=2, response_format="b64_json"
    )
    assert answer.data is not None
    assert len(answer.data) == 2
    assert base64.b64decode(answer.data[0].b64_json or "").startswith(b"\x89PNG")


def test_image_edit_through_the_openai_adapter_is_sent_as_a_form(
    client: openai.OpenAI, upstream: FakeUpstream
) -> None:
    answer = client.images.edit(
        model="up",
        image=[("a.png", PNG, "image/png"), ("b.png", PNG + b"x", "image/png")],
        mask=("mask.png", PNG, "image/png"),
        prompt="merge",
    )
    assert answer.data is not None
    assert answer.data[0].b64_json == IMAGE_B64
    sent = upstream.requests[-1]
    assert sent["path"] == "/v1/images/edits"
    assert sent["json"]["image[]"] == [
        {"filename": "a.png", "size": len(PNG)},
        {"filename": "b.png", "size": len(PNG) + 1},
    ]
    assert sent["json"]["mask"] == {"filename": "mask.png", "size": len(PNG)}
    assert sent["json"]["model"] == "plain"


def test_an_image_edit_without_an_image_is_a_400(gateway: GatewayProcess) -> None:
    response = httpx.post(
        f"{gateway.base_url}/v1/images/edits",
        data={"model": "mock", "prompt": "x"},
        files={"x": b""},
        timeout=10,
    )
    assert response.status_code == 400, response.text
    assert "image" in response.text


def test_calls_are_metered_by_their_prompt_not_their_bytes(client: openai.OpenAI) -> None:
    # a dollar a prompt token: the cost is the prompt estimate, never the size of the base64 image
    raw = client.images.with_raw_response.generate(model="priced", prompt="x" * 40)
    assert float(raw.headers["x-routeiq-cost"]) == 10.0
    raw_rerank = client.with_options().post(
        "/rerank",
        body={"model": "priced", "query": "q" * 8, "documents": ["d" * 40]},
        cast_to=httpx.Response,
    )
    assert float(raw_rerank.headers["x-routeiq-cost"]) == 12.0
