"""The OpenAI surface's audio: speech (JSON in, audio bytes streamed out), transcriptions (a form in).

Speech is always a stream of the upstream's audio bytes, relayed as they come with the media type of
the requested ``response_format``. A transcription's form is read by a bounded multipart reader;
its file travels to the adapters as an :class:`~routeiq_core.providers.UploadedFile` (sent on as a
form), and a plain-text transcript (``text``, ``srt``, ``vtt``) is answered as text.
"""

from __future__ import annotations

import functools
from types import MappingProxyType
from typing import Any

import msgspec

from routeiq_app.asgi_io import send_json, send_stream
from routeiq_app.asgi_types import ASGIApp, Receive, Scope, Send
from routeiq_app.json_body import ObjectDecoder, decode_json_object, validate
from routeiq_app.surfaces.http import HttpRequestReader, result_headers
from routeiq_app.surfaces.openai.forms import decode_form
from routeiq_app.surfaces.openai.handler import operation_handler
from routeiq_app.surfaces.openai.wire_tasks import SpeechRequest, TranscriptionForm
from routeiq_core.calls import CallRequest, CallResult, CallService, CallStream
from routeiq_core.errors import InvalidRequestError
from routeiq_core.providers import Operation

SPEECH_PATHS = ("/v1/audio/speech", "/audio/speech")
TRANSCRIPTION_PATHS = ("/v1/audio/transcriptions", "/audio/transcriptions")
SPEECH_MEDIA_TYPES = MappingProxyType(
    {
        "mp3": b"audio/mpeg",
        "opus": b"audio/ogg",
        "aac": b"audio/aac",
        "flac": b"audio/flac",
        "wav": b"audio/wav",
        "pcm": b"audio/pcm",
    }
)
_TEXT_FORMATS = frozenset({"text", "srt", "vtt"})


def audio_routes(calls: CallService, reader: HttpRequestReader, max_body_bytes: int) -> dict[str, ASGIApp]:
    """The speech and transcription handlers bound to this app's use case, by path."""
    decoder: ObjectDecoder = msgspec.json.Decoder(dict[str, Any])
    speech = operation_handler(
        Operation.AUDIO_SPEECH,
        calls,
        reader,
        max_body_bytes,
        functools.partial(_decode_speech, decoder=decoder),
        _write_speech,
    )
    decode_upload = functools.partial(
        decode_form,
        wire_type=TranscriptionForm,
        files=frozenset({"file"}),
        required="file",
        numbers={"temperature": float},
    )
    transcription = operation_handler(
        Operation.AUDIO_TRANSCRIPTION, calls, reader, max_body_bytes, decode_upload, _write_transcript
    )
    return dict.fromkeys(SPEECH_PATHS, speech) | dict.fromkeys(TRANSCRIPTION_PATHS, transcription)


def _decode_speech(body: bytes, scope: Scope, *, decoder: ObjectDecoder) -> CallRequest:
    payload = decode_json_object(body, decoder)
    validate(payload, SpeechRequest)
    return CallRequest(payload=payload, stream=True)


async def _write_speech(send: Send, receive: Receive, result: CallResult) -> None:
    if not isinstance(result, CallStream):  # a plugin answered it whole
        await send_json(send, 200, result.body, result_headers(result.context, with_cost=True))
        return
    fmt = result.context.payload.get("response_format") or "mp3"
    content = ((b"content-type", SPEECH_MEDIA_TYPES.get(fmt, b"application/octet-stream")),)
    await send_stream(
        send, receive, result.frames, result_headers(result.context, with_cost=False), content=content
    )


async def _write_transcript(send: Send, receive: Receive, result: CallResult) -> None:
    if isinstance(result, CallStream):  # never: transcriptions are not streamed
        raise InvalidRequestError("Transcriptions cannot be streamed.", param="stream")
    text = result.context.payload.get("response_format") in _TEXT_FORMATS
    content_type = b"text/plain; charset=utf-8" if text else b"application/json"
    await send_json(
        send, 200, result.body, result_headers(result.context, with_cost=True), content_type=content_type
    )
