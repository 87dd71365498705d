"""The OpenAPI description of the OpenAI surface's uploads and audio: transcriptions, image edits, speech.

As in :mod:`spec`, these Litestar handlers only describe routes the surface router serves (a call
never reaches them): the forms as ``multipart/form-data`` with their files as binary parts, and
speech's answer as audio bytes.
"""

from __future__ import annotations

from typing import Annotated

from litestar import post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody

from routeiq_app.surfaces.openai.spec import _ERRORS, NotServedHere
from routeiq_app.surfaces.openai.wire_tasks import (
    ImageEditForm,
    ImagesResponse,
    SpeechRequest,
    Transcription,
    TranscriptionForm,
)

_FORM = Body(media_type=RequestEncodingType.MULTI_PART)


class TranscriptionUpload(TranscriptionForm, kw_only=True):
    """``POST /v1/audio/transcriptions``: the audio ``file`` and the text fields."""

    file: UploadFile


class ImageEditUpload(ImageEditForm, kw_only=True):
    """``POST /v1/images/edits``: the ``image`` (one, or several as ``image[]``), an optional ``mask``."""

    image: UploadFile
    mask: UploadFile | None = None


def _not_served(path: str) -> NotServedHere:
    return NotServedHere(f"{path} is served by the surface router, not by its OpenAPI description")


@post(
    ["/v1/audio/transcriptions", "/audio/transcriptions"],
    summary="Transcribe audio (a multipart/form-data upload)",
    tags=["openai"],
    responses=dict(_ERRORS),
    status_code=200,
    sync_to_thread=False,
)
def audio_transcriptions(data: Annotated[TranscriptionUpload, _FORM]) -> Transcription:
    """OpenAI's transcriptions: JSON formats answer `{"text": ...}`; `text`, `srt` and `vtt` plain text."""
    raise _not_served("/v1/audio/transcriptions")


@post(
    ["/v1/images/edits", "/images/edits"],
    summary="Edit images as a prompt says (a multipart/form-data upload)",
    tags=["openai"],
    responses=dict(_ERRORS),
    status_code=200,
    sync_to_thread=False,
)
def images_edits(data: Annotated[ImageEditUpload, _FORM]) -> ImagesResponse:
    """OpenAI's image edits (not streamed); other fields pass through to the upstream."""
    raise _not_served("/v1/images/edits")


@post(
    ["/v1/audio/speech", "/audio/speech"],
    summary="Turn text into speech (the audio streamed as it comes)",
    tags=["openai"],
    responses=dict(_ERRORS),
    status_code=200,
    media_type="audio/mpeg",
    sync_to_thread=False,
)
def audio_speech(data: JSONBody[SpeechRequest]) -> bytes:
    """OpenAI's speech: audio bytes in `response_format` (`audio/mpeg` for mp3, `audio/wav`, ...)."""
    raise _not_served("/v1/audio/speech")


form_descriptions = (audio_transcriptions, images_edits, audio_speech)
"""The descriptions of the upload and audio routes."""
