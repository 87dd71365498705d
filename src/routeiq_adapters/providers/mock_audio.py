"""The mock's audio: speech as silent audio a word at a time, transcriptions that describe the file.

Deterministic: speech lasts :data:`SECONDS_PER_WORD` a word of its input; a transcript names the
file's size and name, in the requested ``response_format``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import msgspec

from routeiq_adapters.providers.mock_request import MockRequestError
from routeiq_core.providers import UploadedFile

SAMPLE_RATE = 24_000
"""OpenAI's ``pcm``: 24 kHz, 16-bit little-endian mono."""
SECONDS_PER_WORD = 0.05
SPEECH_FORMATS = ("mp3", "wav", "pcm")
_SAMPLES_PER_WORD = int(SAMPLE_RATE * SECONDS_PER_WORD)
_MP3_FRAME = b"\xff\xfb\x90\x64" + bytes(413)
"""One silent MPEG-1 Layer III frame (128 kbit/s, 44.1 kHz: 417 bytes, about 26 ms)."""
_MP3_FRAMES_PER_WORD = 2


def speech(payload: dict[str, Any]) -> tuple[str, int]:
    """The format of a speech request and its word count (checked before any byte is sent)."""
    text = payload.get("input")
    if not isinstance(text, str) or not text.strip():
        raise MockRequestError("input", "input must be a non-empty string")
    fmt = payload.get("response_format") or "mp3"
    if fmt not in SPEECH_FORMATS:
        raise MockRequestError("response_format", f"the mock speaks {', '.join(SPEECH_FORMATS)}, not {fmt!r}")
    return fmt, len(text.split())


def speech_chunks(fmt: str, words: int) -> Iterator[bytes]:
    """The audio, one chunk a word (a WAV starts with its header)."""
    if fmt == "mp3":
        for _ in range(words):
            yield _MP3_FRAME * _MP3_FRAMES_PER_WORD
        return
    silence = bytes(2 * _SAMPLES_PER_WORD)
    if fmt == "wav":
        yield _wav_header(len(silence) * words)
    for _ in range(words):
        yield silence


def _wav_header(data_bytes: int) -> bytes:
    return b"".join(
        (
            b"RIFF",
            struct.pack("<I", 36 + data_bytes),
            b"WAVEfmt ",
            struct.pack("<IHHIIHH", 16, 1, 1, SAMPLE_RATE, SAMPLE_RATE * 2, 2, 16),
            b"data",
            struct.pack("<I", data_bytes),
        )
    )


def transcription(payload: dict[str, Any]) -> bytes:
    """A transcript of the payload's file, in its ``response_format`` (JSON by default)."""
    upload = payload.get("file")
    if not isinstance(upload, UploadedFile) or not upload.data:
        raise MockRequestError("file", "file must be a non-empty audio file")
    text = f"A mock transcript of {upload.filename} ({len(upload.data)} bytes)."
    fmt = payload.get("response_format") or "json"
    if fmt == "text":
        return text.encode()
    if fmt in ("srt", "vtt"):
        head = "WEBVTT\n\n" if fmt == "vtt" else "1\n"
        stamp = "00:00:00.000 --> 00:00:01.000" if fmt == "vtt" else "00:00:00,000 --> 00:00:01,000"
        return f"{head}{stamp}\n{text}\n".encode()
    if fmt not in ("json", "verbose_json"):
        raise MockRequestError(
            "response_format", "response_format must be json, text, srt, verbose_json or vtt"
        )
    body: dict[str, Any] = {"text": text}
    if fmt == "verbose_json":
        body |= {"task": "transcribe", "language": "english", "duration": 1.0, "segments": []}
    return msgspec.json.encode(body)
