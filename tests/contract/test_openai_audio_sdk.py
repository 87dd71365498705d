"""Speech (streamed audio bytes) and transcriptions (multipart) through `routeiq serve`, with the SDK."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.fake_upstream_tasks import SPEECH_CHUNKS, TRANSCRIPT
from tests.support.gateway_process import GatewayProcess

pytestmark = pytest.mark.slow
WAV = b"RIFF" + bytes(40) + b"audio-bytes"


def config(upstream: str) -> str:
    return f"""
model_list:
  - model_name: mock
    litellm_params: {{model: mock/m}}
  - model_name: chat-only
    litellm_params: {{model: mock/c}}
    model_info: {{mode: chat}}
  - model_name: up
    litellm_params: {{model: openai/tts, api_base: '{upstream}', api_key: sk-upstream}}
server: {{max_request_body_bytes: 65536}}
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


def test_speech_from_the_mock_streams_a_wav(client: openai.OpenAI) -> None:
    with client.audio.speech.with_streaming_response.create(
        model="mock", voice="alloy", input="one two three four", response_format="wav"
    ) as response:
        assert response.headers["content-type"] == "audio/wav"
        assert response.headers["x-routeiq-deployment"] == "mock-0"
        chunks = list(response.iter_bytes())
    audio = b"".join(chunks)
    assert audio.startswith(b"RIFF")
    assert len(audio) == 44 + 4 * 2 * 1_200  # a header, then 50 ms of 24 kHz 16-bit silence a word


def test_speech_through_the_openai_adapter_relays_the_upstream_bytes(
    client: openai.OpenAI, upstream: FakeUpstream
) -> None:
    with client.audio.speech.with_streaming_response.create(
        model="up", voice="alloy", input="hi"
    ) as response:
        assert response.headers["content-type"] == "audio/mpeg"
        assert response.read() == b"".join(SPEECH_CHUNKS)
    sent = upstream.requests[-1]
    assert sent["path"] == "/v1/audio/speech"
    assert sent["json"] == {"model": "tts", "voice": "alloy", "input": "hi"}


def test_transcription_from_the_mock(client: openai.OpenAI) -> None:
    answer = client.audio.transcriptions.create(model="mock", file=("clip.wav", io.BytesIO(WAV), "audio/wav"))
    assert answer.text == f"A mock transcript of clip.wav ({len(WAV)} bytes)."
    text = client.audio.transcriptions.create(
        model="mock", file=("clip.wav", WAV, "audio/wav"), response_format="text", temperature=0.2
    )
    assert isinstance(text, str)
    assert text.startswith("A mock transcript")


def test_transcription_through_the_openai_adapter_is_sent_as_a_form(
    client: openai.OpenAI, upstream: FakeUpstream
) -> None:
    answer = client.audio.transcriptions.create(
        model="up", file=("clip.wav", WAV, "audio/wav"), language="en", timestamp_granularities=["word"]
    )
    assert answer.text == TRANSCRIPT
    sent = upstream.requests[-1]
    assert sent["path"] == "/v1/audio/transcriptions"
    assert sent["json"]["model"] == "tts"
    assert sent["json"]["language"] == "en"
    assert sent["json"]["file"] == {"filename": "clip.wav", "size": len(WAV)}


def test_a_chat_group_cannot_speak(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(model="chat-only", voice="alloy", input="hi")
    assert caught.value.code == "unsupported_operation"
    assert "audio_speech" in caught.value.message


@pytest.mark.parametrize(
    ("headers", "body", "status", "text"),
    [
        ({"content-type": "application/json"}, b"{}", 400, "multipart/form-data"),
        ({"content-type": "multipart/form-data; boundary=B"}, b"--B\r\nno headers", 400, "closing boundary"),
        (
            {"content-type": "multipart/form-data; boundary=B"},
            b'--B\r\nContent-Disposition: form-data; name="model"\r\n\r\nmock\r\n--B--\r\n',
            400,
            "file",
        ),
        (
            {"content-type": "multipart/form-data; boundary=B"},
            b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nx\r\n--B--\r\n',
            400,
            "model",
        ),
        ({"content-type": "multipart/form-data; boundary=B"}, b"--B\r\n" + b"x" * 70_000, 413, "larger"),
    ],
)
def test_hostile_or_incomplete_uploads_are_clear_4xx(
    gateway: GatewayProcess, headers: dict[str, str], body: bytes, status: int, text: str
) -> None:
    response = httpx.post(
        f"{gateway.base_url}/v1/audio/transcriptions", content=body, headers=headers, timeout=10
    )
    assert response.status_code == status, response.text
    assert text in response.text


def test_speech_refuses_bad_fields(gateway: GatewayProcess) -> None:
    body = {"model": "mock", "voice": "alloy", "input": "x" * 5_000}
    response = httpx.post(f"{gateway.base_url}/v1/audio/speech", json=body, timeout=10)
    assert response.status_code == 400
    assert "input" in response.text
