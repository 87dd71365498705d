"""Wire types of the OpenAI surface's non-generative calls: moderations, image generation, rerank.

As for chat, only what the gateway reads or must bound is modelled; every other field passes through
to the upstream untouched.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

MAX_INPUTS = 2_048
MAX_TEXT_CHARS = 1_000_000
MAX_IMAGE_PROMPT_CHARS = 32_000
MAX_RERANK_DOCUMENTS = 10_000

_Text = Annotated[str, Meta(max_length=MAX_TEXT_CHARS)]


class ModerationRequest(msgspec.Struct, kw_only=True):
    """``POST /v1/moderations``: a string, a list of strings, or a list of text/image parts."""

    input: _Text | Annotated[list[Any], Meta(min_length=1, max_length=MAX_INPUTS)]
    model: Annotated[str, Meta(min_length=1)]


class ImageGenerationRequest(msgspec.Struct, kw_only=True):
    """``POST /v1/images/generations``."""

    model: Annotated[str, Meta(min_length=1)]
    prompt: Annotated[str, Meta(min_length=1, max_length=MAX_IMAGE_PROMPT_CHARS)]
    n: Annotated[int, Meta(ge=1, le=10)] | None = None
    size: Annotated[str, Meta(max_length=32)] | None = None
    response_format: Annotated[str, Meta(max_length=32)] | None = None


class RerankRequest(msgspec.Struct, kw_only=True):
    """``POST /v1/rerank`` (Cohere's and Jina's shape, as LiteLLM serves it)."""

    model: Annotated[str, Meta(min_length=1)]
    query: Annotated[str, Meta(min_length=1, max_length=MAX_TEXT_CHARS)]
    documents: Annotated[list[_Text | dict[str, Any]], Meta(min_length=1, max_length=MAX_RERANK_DOCUMENTS)]
    top_n: Annotated[int, Meta(ge=1)] | None = None
    return_documents: bool | None = None


class ModerationResult(msgspec.Struct, kw_only=True):
    """One input's verdict."""

    flagged: bool
    categories: dict[str, bool]
    category_scores: dict[str, float]


class Moderation(msgspec.Struct, kw_only=True):
    """The answer of ``POST /v1/moderations`` (the upstream's, passed through)."""

    id: str
    model: str
    results: list[ModerationResult]


class Image(msgspec.Struct, kw_only=True):
    """One generated image: base64 PNG data or a URL."""

    b64_json: str | None = None
    url: str | None = None
    revised_prompt: str | None = None


class ImagesResponse(msgspec.Struct, kw_only=True):
    """The answer of ``POST /v1/images/generations``."""

    created: int
    data: list[Image]


class RerankResult(msgspec.Struct, kw_only=True):
    """One document's place: its index in the request and its relevance."""

    index: int
    relevance_score: float
    document: dict[str, Any] | None = None


class RerankResponse(msgspec.Struct, kw_only=True):
    """The answer of ``POST /v1/rerank``: results best first."""

    id: str
    results: list[RerankResult]


MAX_SPEECH_CHARS = 4_096


class SpeechRequest(msgspec.Struct, kw_only=True):
    """``POST /v1/audio/speech``: the answer is audio bytes in ``response_format``, streamed."""

    model: Annotated[str, Meta(min_length=1)]
    input: Annotated[str, Meta(min_length=1, max_length=MAX_SPEECH_CHARS)]
    voice: Annotated[str, Meta(min_length=1, max_length=64)] | dict[str, Any]
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] | None = None
    speed: Annotated[float, Meta(ge=0.25, le=4.0)] | None = None
    stream_format: Literal["audio"] | None = None
    """Only raw audio is relayed (``sse`` streams of speech are not)."""


class TranscriptionForm(msgspec.Struct, kw_only=True):
    """The text fields of ``POST /v1/audio/transcriptions`` (a form; the file is checked apart)."""

    model: Annotated[str, Meta(min_length=1, max_length=256)]
    language: Annotated[str, Meta(max_length=16)] | None = None
    prompt: Annotated[str, Meta(max_length=MAX_TEXT_CHARS)] | None = None
    response_format: Literal["json", "text", "srt", "verbose_json", "vtt", "diarized_json"] | None = None
    temperature: Annotated[float, Meta(ge=0, le=1)] | None = None
    stream: Literal[False, "false"] | None = None
    """Transcripts are answered whole (streamed transcription events are not relayed)."""


class Transcription(msgspec.Struct, kw_only=True):
    """The answer of ``POST /v1/audio/transcriptions`` (JSON formats; the others are plain text)."""

    text: str


class ImageEditForm(msgspec.Struct, kw_only=True):
    """The text fields of ``POST /v1/images/edits`` (a form; ``image`` and ``mask`` are files)."""

    model: Annotated[str, Meta(min_length=1, max_length=256)]
    prompt: Annotated[str, Meta(min_length=1, max_length=MAX_IMAGE_PROMPT_CHARS)]
    n: Annotated[int, Meta(ge=1, le=10)] | None = None
    size: Annotated[str, Meta(max_length=32)] | None = None
    response_format: Annotated[str, Meta(max_length=32)] | None = None
    stream: Literal[False, "false"] | None = None
    """Edited images are answered whole (streamed partial images are not relayed)."""
