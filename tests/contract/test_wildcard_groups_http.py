"""LiteLLM-style wildcard model groups over HTTP: the official `openai` SDK against `routeiq serve`.

``openai/*`` reaches a local OpenAI-compatible server (FakeUpstream) through the native adapter, an
explicit group next to it wins over the pattern, and ``demo/*`` is served by the mock provider.
"""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.gateway_process import GatewayProcess

pytestmark = pytest.mark.slow


def config(upstream: str) -> str:
    return f"""
model_list:
  - model_name: "openai/gpt-4o-mini"
    litellm_params: {{model: openai/pinned-mini, api_base: "{upstream}", api_key: sk-upstream}}
    model_info: {{id: explicit}}
  - model_name: "openai/*"
    litellm_params: {{model: "openai/*", api_base: "{upstream}", api_key: sk-upstream}}
    model_info: {{id: openai-wildcard}}
  - model_name: "demo/*"
    litellm_params: {{model: "mock/*"}}
resilience:
  num_retries: 0
  breaker_failure_threshold: 1
  breaker_cooldown_s: 60
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


def ask(client: openai.OpenAI, model: str) -> tuple[str, dict[str, str]]:
    """The answer's model and the gateway's route headers."""
    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "hi"}]
    )
    return raw.parse().model, dict(raw.headers)


def test_the_wildcard_sends_the_matched_model_upstream(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    before = upstream.calls("gpt-4o")
    model, headers = ask(client, "openai/gpt-4o")
    assert upstream.calls("gpt-4o") == before + 1
    assert upstream.requests[-1]["json"]["model"] == "gpt-4o"
    assert upstream.requests[-1]["authorization"] == "Bearer sk-upstream"
    assert model == "gpt-4o"
    assert headers["x-routeiq-deployment"] == "openai-wildcard"
    assert headers["x-routeiq-model-group"] == "openai/*"


def test_an_explicit_group_wins_over_the_wildcard(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    before = upstream.calls("pinned-mini")
    _, headers = ask(client, "openai/gpt-4o-mini")
    assert upstream.calls("pinned-mini") == before + 1
    assert headers["x-routeiq-deployment"] == "explicit"
    assert headers["x-routeiq-model-group"] == "openai/gpt-4o-mini"


def test_the_mock_provider_serves_a_wildcard_group(client: openai.OpenAI) -> None:
    model, headers = ask(client, "demo/any-model")
    assert model == "any-model"
    assert headers["x-routeiq-deployment"] == "demo/*-0"


def test_an_unknown_model_upstream_is_the_clients_404_and_keeps_the_breaker_closed(
    client: openai.OpenAI,
) -> None:
    for _ in range(3):  # the breaker opens after one failure: these must not count
        with pytest.raises(openai.NotFoundError):
            ask(client, "openai/error-404")
    model, _ = ask(client, "openai/gpt-4o")
    assert model == "gpt-4o"


def test_models_lists_the_configured_names(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["openai/gpt-4o-mini", "openai/*", "demo/*"]


def test_a_name_no_group_matches_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        ask(client, "anthropic/claude")
    assert "openai/*" in str(info.value)
