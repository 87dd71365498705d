"""The operations the gateway serves, and which of them are metered in tokens."""

from __future__ import annotations

import enum

import msgspec


class Operation(enum.StrEnum):
    """OpenAI API operations the gateway proxies."""

    CHAT = "chat"
    COMPLETIONS = "completions"
    EMBEDDINGS = "embeddings"
    MODERATIONS = "moderations"
    IMAGES = "images"
    """Image generation from a prompt."""
    IMAGE_EDITS = "image_edits"
    """Editing uploaded images (:class:`UploadedFile`s) as a prompt says."""
    RERANK = "rerank"
    """Ranking documents by their relevance to a query (Cohere's and Jina's rerank)."""
    AUDIO_SPEECH = "audio_speech"
    """Text to speech: the answer is audio bytes, streamed as they come (see :data:`BYTE_STREAMS`)."""
    AUDIO_TRANSCRIPTION = "audio_transcription"
    """Speech to text: the request carries an audio file (an :class:`UploadedFile`)."""
    FILE_UPLOAD = "file_upload"
    """Uploading a file to a provider's deployment: it lives there, RouteIQ records its owner."""
    FILE_RETRIEVE = "file_retrieve"
    FILE_CONTENT = "file_content"
    """A stored file's bytes, streamed as they come (see :data:`BYTE_STREAMS`)."""
    FILE_DELETE = "file_delete"
    BATCH_CREATE = "batch_create"
    """Starting a batch over an uploaded JSONL file, on the deployment holding that file."""
    BATCH_RETRIEVE = "batch_retrieve"
    BATCH_CANCEL = "batch_cancel"


TOOL_CALL = "tool_call"
"""A tool call through the MCP gateway: not an OpenAI operation (no deployment serves it), but policy
rules may name it in ``operations`` (with ``surfaces: [mcp]``; ``models`` then match ``server/tool``)."""

POLICY_OPERATIONS = (*(operation.value for operation in Operation), TOOL_CALL)
"""Every operation a policy rule may name."""

STREAMABLE = frozenset({Operation.CHAT, Operation.COMPLETIONS})
"""The operations whose answer can stream as SSE frames."""

BYTE_STREAMS = frozenset({Operation.AUDIO_SPEECH, Operation.FILE_CONTENT})
"""The operations whose answer always streams, as raw bytes rather than SSE frames.

The gateway relays their chunks as they come, adds no ``[DONE]`` and no error frame (a failure after
the first chunk ends the answer short, and is counted against the deployment); plugins' stream hooks
do not see them (they read SSE)."""


class UploadedFile(msgspec.Struct, frozen=True, kw_only=True):
    """A file a request carries (an audio file to transcribe), as the surface received it."""

    filename: str
    media_type: str
    data: bytes

    def __repr__(self) -> str:
        """Never the bytes."""
        size = len(self.data)
        return f"UploadedFile(filename={self.filename!r}, media_type={self.media_type!r}, {size} bytes)"


UPLOADS = frozenset({Operation.AUDIO_TRANSCRIPTION, Operation.IMAGE_EDITS, Operation.FILE_UPLOAD})
"""The operations whose request carries files (:class:`UploadedFile` values in the payload)."""

SIZED_ANSWERS = frozenset({Operation.CHAT, Operation.COMPLETIONS, Operation.EMBEDDINGS})
"""The operations whose answer, when it reports no usage, is metered by its size (bytes over four).

The others (an image, a moderation verdict, a ranking) are not generated tokens: without usage they
are metered by their prompt estimate alone."""

FILE_OPERATIONS = frozenset(
    {Operation.FILE_UPLOAD, Operation.FILE_RETRIEVE, Operation.FILE_CONTENT, Operation.FILE_DELETE}
)
"""The files API: passed through to the deployment holding the file (:mod:`routeiq_core.provider_objects`)."""
BATCH_OPERATIONS = frozenset({Operation.BATCH_CREATE, Operation.BATCH_RETRIEVE, Operation.BATCH_CANCEL})
"""The batches API: passed through to the deployment that holds the batch's input file."""
PROVIDER_OBJECTS = FILE_OPERATIONS | BATCH_OPERATIONS
"""The operations on objects that live with the provider: their answers are never cached or generated."""
