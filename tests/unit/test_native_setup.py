"""Which deployments speak which client protocols natively, and what the forwarders read of the wire."""

from __future__ import annotations

from pathlib import Path

import pytest

from routeiq_adapters.providers.anthropic_http import AnthropicForwarder
from routeiq_adapters.providers.native_http import _raise_on_error_event
from routeiq_adapters.providers.openai_responses import OpenAIResponsesForwarder
from routeiq_app.catalog_builder import build_catalog
from routeiq_app.settings import load_settings
from routeiq_core.catalog import Deployment
from routeiq_core.errors import ConfigurationError, UpstreamError
from routeiq_core.native import NativeProtocol
from routeiq_core.providers import Usage

MESSAGES, RESPONSES = NativeProtocol.MESSAGES, NativeProtocol.RESPONSES


def native_of(tmp_path: Path, entries: str) -> dict[str, frozenset[NativeProtocol]]:
    path = tmp_path / "config.yaml"
    path.write_text("model_list:\n" + entries)
    catalog = build_catalog(load_settings(str(path)))
    return {d.id: d.native for g in catalog.groups for d in g.deployments}


def entry(name: str, model: str, extra: str = "", info: str = "") -> str:
    text = f"  - model_name: {name}\n    litellm_params: {{model: {model}{extra}}}\n"
    return text + (f"    model_info: {{{info}}}\n" if info else "")


def test_the_defaults_follow_the_provider(tmp_path: Path) -> None:
    found = native_of(
        tmp_path,
        entry("claude", "anthropic/claude-x")
        + entry("openai", "openai/gpt-x")
        + entry("vllm", "openai/llama", ", api_base: 'http://127.0.0.1:8000/v1'")
        + entry("azure", "azure/gpt-x", ", api_base: 'https://x.openai.azure.com'")
        + entry("mock", "mock/m"),
    )
    assert found == {
        "claude-0": frozenset({MESSAGES}),  # Anthropic's API speaks Messages
        "openai-0": frozenset({RESPONSES}),  # the OpenAI API itself speaks Responses
        "vllm-0": frozenset(),  # another OpenAI-compatible server must declare it
        "azure-0": frozenset(),  # a LiteLLM deployment is translated
        "mock-0": frozenset(),
    }


def test_deployments_declare_and_opt_out(tmp_path: Path) -> None:
    found = native_of(
        tmp_path,
        entry("vllm", "openai/llama", ", api_base: 'http://127.0.0.1:8000/v1'", "supports_responses: true")
        + entry("both", "openai/m", ", api_base: 'http://127.0.0.1:8000/v1'", "supports_messages: true")
        + entry("optout", "openai/gpt-x", "", "supports_responses: false")
        + entry("claude", "anthropic/claude-x", "", "supports_messages: false"),
    )
    assert found == {
        "vllm-0": frozenset({RESPONSES}),
        "both-0": frozenset({MESSAGES}),
        "optout-0": frozenset(),
        "claude-0": frozenset(),
    }


def test_what_cannot_forward_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        native_of(
            tmp_path,
            entry("azure", "azure/gpt-x", "", "supports_responses: true")
            + entry("mock", "mock/m", "", "supports_messages: true"),
        )
    text = "\n".join(caught.value.problems)
    assert "model_list[0].model_info.supports_responses" in text
    assert "'litellm' adapter" in text
    assert "model_list[1].model_info.supports_messages" in text


def deployment(**kw: object) -> Deployment:
    fields: dict[str, object] = {"id": "d", "model_group": "g", "adapter": "litellm", "upstream_model": "m"}
    return Deployment(**{**fields, **kw})  # type: ignore[arg-type]


def test_the_anthropic_forwarder_calls_v1_messages_with_x_api_key() -> None:
    forwarder = AnthropicForwarder()
    assert forwarder.url(deployment()) == "https://api.anthropic.com/v1/messages"
    assert forwarder.url(deployment(api_base="http://h:1/v1/")) == "http://h:1/v1/messages"
    assert forwarder.url(deployment(api_base="http://h:1")) == "http://h:1/v1/messages"
    assert forwarder.auth_headers(deployment(api_key="sk-a")) == {
        "anthropic-version": "2023-06-01",
        "x-api-key": "sk-a",
    }
    assert forwarder.upstream_model(deployment(upstream_model="anthropic/claude-x")) == "claude-x"


def test_the_anthropic_usage_counts_cached_prompt_tokens_and_merges_the_stream_pieces() -> None:
    forwarder = AnthropicForwarder()
    body = b'{"usage": {"input_tokens": 11, "output_tokens": 7, "cache_read_input_tokens": 2}}'
    assert forwarder.answer_usage(body) == Usage(prompt_tokens=13, completion_tokens=7, total_tokens=20)
    start = (
        b'event: message_start\ndata: {"type":"message_start","message":{"usage":'
        b'{"input_tokens":11,"output_tokens":1,"cache_creation_input_tokens":3}}}\n\n'
        b'event: ping\ndata: {"type":"ping"}\n\n'
    )
    assert forwarder.stream_usage(start) == Usage(prompt_tokens=14, completion_tokens=1, total_tokens=15)
    end = b'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":9}}\n\n'
    assert forwarder.stream_usage(start + end) == Usage(
        prompt_tokens=14, completion_tokens=9, total_tokens=23
    )
    assert forwarder.stream_usage(b'event: content_block_delta\ndata: {"text": "no"}\n\n') is None


def test_the_responses_forwarder_reads_the_final_events_usage_only() -> None:
    forwarder = OpenAIResponsesForwarder()
    assert forwarder.url(deployment(api_base="http://h:1/v1/")) == "http://h:1/v1/responses"
    assert forwarder.auth_headers(deployment(api_key="sk-o")) == {"Authorization": "Bearer sk-o"}
    completed = (
        b'event: response.completed\ndata: {"type":"response.completed","response":'
        b'{"id":"r","usage":{"input_tokens":9,"output_tokens":4,"total_tokens":13}}}\n\n'
    )
    assert forwarder.stream_usage(completed) == Usage(prompt_tokens=9, completion_tokens=4, total_tokens=13)
    created = b'event: response.created\ndata: {"type":"response.created","response":{"usage":null}}\n\n'
    assert forwarder.stream_usage(created) is None
    assert forwarder.answer_usage(b'{"id": "r", "usage": {"input_tokens": 2, "output_tokens": 3}}') == Usage(
        prompt_tokens=2, completion_tokens=3, total_tokens=5
    )


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Busy"}}',
            "Busy",
        ),
        (b'event: error\ndata: {"type":"error","code":"server_error","message":"boom","param":null}', "boom"),
    ],
)
def test_an_error_event_raises_the_upstreams_message(event: bytes, message: str) -> None:
    with pytest.raises(UpstreamError, match=message) as caught:
        _raise_on_error_event(b"event: ping\ndata: {}\n\n" + event + b"\n\n", deployment())
    assert caught.value.retryable
    _raise_on_error_event(b'event: response.failed\ndata: {"error": {"message": "kept"}}\n\n', deployment())
