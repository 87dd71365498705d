"""The provider port's contract, once, over every adapter: mock, openai (aiohttp) and litellm.

The network adapters talk to :class:`FakeUpstream` on 127.0.0.1; their failure cases pick a
misbehaving upstream model by name.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import msgspec
import pytest

from routeiq_adapters.providers.litellm import LiteLLMProvider
from routeiq_adapters.providers.mock import MockBehaviour, MockProvider
from routeiq_adapters.providers.openai_http import OpenAICompatibleProvider
from routeiq_core.catalog import Deployment
from routeiq_core.errors import UpstreamError, UpstreamTimeoutError
from routeiq_core.providers import Operation, ProviderClient, UploadedFile
from tests.support.fake_upstream import CONTEXT_OVERFLOW, ERRORS, TEXT, FakeUpstream
from tests.support.fake_upstream_tasks import SPEECH_CHUNKS

pytestmark = [
    pytest.mark.anyio,
    # LiteLLM's own noise under current pydantic; nothing RouteIQ can act on.
    pytest.mark.filterwarnings("ignore::UserWarning:pydantic"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:litellm"),
]

ADAPTERS = ("mock", "openai", "litellm")
NETWORK_ADAPTERS = ("openai", "litellm")
MESSAGES = ({"role": "user", "content": "Say hello"},)


@dataclass
class Harness:
    """One adapter under test, and how to address a model through it."""

    kind: str
    provider: ProviderClient
    upstream: FakeUpstream
    expected_text: str

    def deployment(
        self, model: str = "gpt-test", *, api_base: str | None = None, **params: Any
    ) -> Deployment:
        if self.kind == "mock":
            return Deployment(
                id=f"mock-{model}", model_group="g", adapter="mock", upstream_model=model, params=params
            )
        return Deployment(
            id=f"{self.kind}-{model}",
            model_group="g",
            adapter="litellm" if self.kind == "litellm" else "openai",
            upstream_model=f"openai/{model}" if self.kind == "litellm" else model,
            api_base=api_base or self.upstream.base_url,
            api_key="sk-test",
            params=params,
        )

    def chat(self, model: str = "gpt-test", **fields: Any) -> tuple[Deployment, dict[str, Any]]:
        deployment = self.deployment(model)
        return deployment, {"model": deployment.upstream_model, "messages": list(MESSAGES), **fields}


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as up:
        yield up


def _provider(kind: str) -> ProviderClient:
    if kind == "mock":
        return MockProvider()
    if kind == "openai":
        return OpenAICompatibleProvider()
    return LiteLLMProvider()


@pytest.fixture(params=ADAPTERS)
async def harness(request: pytest.FixtureRequest, upstream: FakeUpstream) -> AsyncIterator[Harness]:
    kind = request.param
    provider = _provider(kind)
    yield Harness(kind, provider, upstream, MockBehaviour().content if kind == "mock" else TEXT)
    await provider.aclose()


@pytest.fixture(params=NETWORK_ADAPTERS)
async def net(request: pytest.FixtureRequest, upstream: FakeUpstream) -> AsyncIterator[Harness]:
    provider = _provider(request.param)
    yield Harness(request.param, provider, upstream, TEXT)
    await provider.aclose()


def _json_frames(frames: list[bytes]) -> list[dict[str, Any]]:
    return [msgspec.json.decode(f.removeprefix(b"data: ")) for f in frames]


async def _collect(agen: AsyncIterator[bytes], into: list[bytes] | None = None) -> list[bytes]:
    """The frames of a stream; a chunk may hold several complete frames (the port allows it)."""
    frames = [] if into is None else into
    async for chunk in agen:
        assert chunk.endswith(b"\n\n"), chunk  # chunks never cut a frame
        frames.extend(event + b"\n\n" for event in chunk.split(b"\n\n") if event)
    return frames


async def _send_error(h: Harness, model: str, *, timeout_s: float = 10.0) -> UpstreamError:
    deployment, payload = h.chat(model)
    with pytest.raises(UpstreamError) as caught:
        await h.provider.send(deployment, Operation.CHAT, payload, timeout_s=timeout_s)
    return caught.value


# --- every adapter ------------------------------------------------------------------------------


async def test_chat_send_returns_openai_json_with_usage(harness: Harness) -> None:
    deployment, payload = harness.chat()
    reply = await harness.provider.send(deployment, Operation.CHAT, payload, timeout_s=10)
    body = msgspec.json.decode(reply.body)
    assert body["choices"][0]["message"]["content"] == harness.expected_text
    assert body["choices"][0]["message"]["role"] == "assistant"
    assert body["usage"]["total_tokens"] > 0
    assert reply.usage is not None
    assert reply.usage.total_tokens == body["usage"]["total_tokens"] > 0


async def test_chat_stream_yields_complete_frames_that_spell_the_text(harness: Harness) -> None:
    deployment, payload = harness.chat(stream=True)
    frames = await _collect(harness.provider.stream(deployment, Operation.CHAT, payload, timeout_s=10))
    assert len(frames) >= 2
    assert all(f.startswith(b"data: ") and f.endswith(b"\n\n") and f.count(b"\n\n") == 1 for f in frames)
    assert not any(b"[DONE]" in f for f in frames)
    chunks = _json_frames(frames)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == harness.expected_text
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert any(c["choices"] and c["choices"][0].get("finish_reason") == "stop" for c in chunks)


async def test_chat_stream_reports_usage_when_asked(harness: Harness) -> None:
    deployment, payload = harness.chat(stream=True, stream_options={"include_usage": True})
    frames = await _collect(harness.provider.stream(deployment, Operation.CHAT, payload, timeout_s=10))
    with_usage = [c for c in _json_frames(frames) if c.get("usage")]
    assert with_usage, "no frame carries usage"
    assert with_usage[-1]["usage"]["total_tokens"] > 0
    assert with_usage[-1]["choices"] == []


async def test_completions_send(harness: Harness) -> None:
    deployment = harness.deployment()
    payload = {"model": deployment.upstream_model, "prompt": "Say hello"}
    reply = await harness.provider.send(deployment, Operation.COMPLETIONS, payload, timeout_s=10)
    body = msgspec.json.decode(reply.body)
    assert body["choices"][0]["text"] == harness.expected_text
    assert reply.usage is not None
    assert reply.usage.total_tokens > 0


async def test_embeddings_return_vectors_and_usage(harness: Harness) -> None:
    deployment = harness.deployment("embed-test")
    payload = {"model": deployment.upstream_model, "input": ["first", "second"]}
    reply = await harness.provider.send(deployment, Operation.EMBEDDINGS, payload, timeout_s=10)
    body = msgspec.json.decode(reply.body)
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert all(
        len(d["embedding"]) > 0 and all(isinstance(x, float) for x in d["embedding"]) for d in body["data"]
    )
    assert reply.usage is not None
    assert reply.usage.prompt_tokens > 0


async def test_aclose_releases_and_can_be_repeated(harness: Harness) -> None:
    deployment, payload = harness.chat()
    await harness.provider.send(deployment, Operation.CHAT, payload, timeout_s=10)
    await harness.provider.aclose()
    await harness.provider.aclose()


# --- network adapters ---------------------------------------------------------------------------


async def test_unknown_fields_and_credentials_reach_the_upstream(net: Harness) -> None:
    deployment, payload = net.chat(logit_bias={"1": 2}, x_vendor_flag="on")
    await net.provider.send(deployment, Operation.CHAT, payload, timeout_s=10)
    received = net.upstream.requests[-1]
    assert received["path"] == "/v1/chat/completions"
    assert received["authorization"] == "Bearer sk-test"
    assert received["json"]["model"] == "gpt-test"
    assert received["json"]["logit_bias"] == {"1": 2}
    assert received["json"]["x_vendor_flag"] == "on"


async def test_server_error_is_retryable(net: Harness) -> None:
    error = await _send_error(net, "error-500")
    assert (error.status_code, error.retryable) == (500, True)
    assert net.upstream.calls("error-500") == 1, "the adapter must not retry on its own"


async def test_rate_limit_is_retryable_with_retry_after(net: Harness) -> None:
    error = await _send_error(net, "error-429")
    assert (error.status_code, error.retryable) == (429, True)
    assert error.retry_after_s == 1
    assert error.code == "rate_limit_exceeded"


async def test_bad_request_is_final_and_keeps_the_upstream_message(net: Harness) -> None:
    error = await _send_error(net, "error-400")
    assert (error.status_code, error.retryable) == (400, False)
    assert ERRORS[400][0] in error.message


async def test_authentication_failure_keeps_its_status(net: Harness) -> None:
    error = await _send_error(net, "error-401")
    assert (error.status_code, error.retryable) == (401, False)


async def test_context_overflow_keeps_its_code(net: Harness) -> None:
    error = await _send_error(net, "context-overflow")
    assert (error.status_code, error.retryable) == (400, False)
    assert error.code == "context_length_exceeded"
    assert error.is_context_overflow
    assert CONTEXT_OVERFLOW in error.message


async def test_slow_upstream_times_out_promptly(net: Harness) -> None:
    started = time.monotonic()
    error = await _send_error(net, "slow", timeout_s=0.5)
    assert isinstance(error, UpstreamTimeoutError)
    assert (error.status_code, error.retryable) == (408, True)
    assert time.monotonic() - started < 2.5


async def test_slow_stream_times_out_promptly(net: Harness) -> None:
    deployment, payload = net.chat("slow", stream=True)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeoutError):
        await _collect(net.provider.stream(deployment, Operation.CHAT, payload, timeout_s=0.5))
    assert time.monotonic() - started < 2.5


async def test_connection_refused_is_retryable_502(net: Harness) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    deployment = net.deployment(api_base=f"http://127.0.0.1:{port}/v1")
    payload = {"model": deployment.upstream_model, "messages": list(MESSAGES)}
    with pytest.raises(UpstreamError) as caught:
        await net.provider.send(deployment, Operation.CHAT, payload, timeout_s=5)
    assert (caught.value.status_code, caught.value.retryable) == (502, True)
    assert caught.value.code == "upstream_unreachable"


async def test_stream_cut_before_done_raises_after_the_first_frames(net: Harness) -> None:
    deployment, payload = net.chat("cut-stream", stream=True)
    frames: list[bytes] = []
    with pytest.raises(UpstreamError) as caught:
        await _collect(net.provider.stream(deployment, Operation.CHAT, payload, timeout_s=5), into=frames)
    assert frames, "the frames sent before the cut must come through"
    assert caught.value.retryable
    assert caught.value.status_code >= 500


async def test_stream_waits_for_a_gated_upstream(net: Harness) -> None:
    deployment, payload = net.chat("gated-stream", stream=True)
    agen = net.provider.stream(deployment, Operation.CHAT, payload, timeout_s=5)
    first = await anext(agen)
    assert b"Hello" in first
    net.upstream.gate.set()
    rest = await _collect(agen)
    text = "".join(
        c["choices"][0]["delta"].get("content") or "" for c in _json_frames([first, *rest]) if c["choices"]
    )
    assert text == TEXT


async def test_closing_the_stream_early_cancels_the_upstream_request(net: Harness) -> None:
    deployment, payload = net.chat("hang-stream", stream=True)
    agen = net.provider.stream(deployment, Operation.CHAT, payload, timeout_s=5)
    assert (await anext(agen)).startswith(b"data: ")
    await agen.aclose()  # type: ignore[attr-defined]
    assert await anyio.to_thread.run_sync(net.upstream.disconnected.wait, 3.0)


# --- moderations, images, rerank, audio (LiteLLM has no rerank for OpenAI-compatible servers) ----

WAV = b"RIFF" + bytes(40)


async def test_moderations_answer_one_result_per_input(harness: Harness) -> None:
    deployment = harness.deployment("plain")
    payload = {"model": deployment.upstream_model, "input": ["hello", "world"]}
    reply = await harness.provider.send(deployment, Operation.MODERATIONS, payload, timeout_s=10)
    body = msgspec.json.decode(reply.body)
    assert len(body["results"]) == 2
    assert body["results"][0]["flagged"] is False


async def test_images_answer_base64_data(harness: Harness) -> None:
    deployment = harness.deployment("plain")
    payload = {"model": deployment.upstream_model, "prompt": "a fox", "n": 2}
    reply = await harness.provider.send(deployment, Operation.IMAGES, payload, timeout_s=10)
    body = msgspec.json.decode(reply.body)
    assert len(body["data"]) == 2
    assert body["data"][0]["b64_json"]
    assert reply.usage is not None
    assert reply.usage.prompt_tokens > 0


@pytest.mark.parametrize("harness", ["mock", "openai"], indirect=True)
async def test_rerank_answers_indices_best_first(harness: Harness) -> None:
    deployment = harness.deployment("plain")
    payload = {
        "model": deployment.upstream_model,
        "query": "fox",
        "documents": ["a fox", "a dog"],
        "top_n": 1,
    }
    reply = await harness.provider.send(deployment, Operation.RERANK, payload, timeout_s=10)
    results = msgspec.json.decode(reply.body)["results"]
    assert len(results) == 1
    assert results[0]["index"] in (0, 1)


async def test_speech_streams_raw_audio_bytes(harness: Harness) -> None:
    deployment = harness.deployment("tts")
    payload = {"model": deployment.upstream_model, "input": "hello there", "voice": "alloy"}
    chunks = [
        c async for c in harness.provider.stream(deployment, Operation.AUDIO_SPEECH, payload, timeout_s=10)
    ]
    audio = b"".join(chunks)
    assert not audio.startswith(b"data:")
    if harness.kind == "mock":
        assert len(chunks) == 2  # a chunk a word
    else:
        assert audio == b"".join(SPEECH_CHUNKS)


async def test_transcription_sends_the_file(harness: Harness) -> None:
    deployment = harness.deployment("whisper")
    upload = UploadedFile(filename="clip.wav", media_type="audio/wav", data=WAV)
    payload = {"model": deployment.upstream_model, "file": upload}
    reply = await harness.provider.send(deployment, Operation.AUDIO_TRANSCRIPTION, payload, timeout_s=10)
    assert msgspec.json.decode(reply.body)["text"]
    if harness.kind != "mock":
        sent = harness.upstream.requests[-1]
        assert sent["path"] == "/v1/audio/transcriptions"
        assert sent["json"]["file"] == {"filename": "clip.wav", "size": len(WAV)}


async def test_a_failing_upstream_keeps_its_status(net: Harness) -> None:
    deployment = net.deployment("error-500")
    payload = {"model": deployment.upstream_model, "input": "x"}
    with pytest.raises(UpstreamError) as caught:
        await net.provider.send(deployment, Operation.MODERATIONS, payload, timeout_s=10)
    assert caught.value.status_code == 500
