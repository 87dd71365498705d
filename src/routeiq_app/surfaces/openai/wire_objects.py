"""Wire types of the OpenAI surface's files and batches.

The requests model what the gateway reads or must bound; the answers (the provider's objects,
passed through) are described for the OpenAPI document with the fields OpenAI documents.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

MAX_ID_CHARS = 128
MAX_METADATA_PAIRS = 16

_Id = Annotated[str, Meta(min_length=1, max_length=MAX_ID_CHARS)]


class FileUploadForm(msgspec.Struct, kw_only=True):
    """The text fields of ``POST /v1/files`` (a form; ``file`` is checked apart).

    ``model`` (or LiteLLM's ``target_model_names``, or the ``x-routeiq-model`` header) names the
    model whose deployment keeps the file; without one, the one model group serving files does.
    """

    purpose: Annotated[str, Meta(min_length=1, max_length=64)]
    model: Annotated[str, Meta(min_length=1, max_length=256)] | None = None
    target_model_names: Annotated[str, Meta(min_length=1, max_length=256)] | None = None


class BatchCreateRequest(msgspec.Struct, kw_only=True):
    """``POST /v1/batches``: a batch over an uploaded JSONL file (on the deployment holding it)."""

    input_file_id: _Id
    endpoint: Annotated[str, Meta(min_length=1, max_length=128)]
    completion_window: Annotated[str, Meta(min_length=1, max_length=16)]
    metadata: (
        Annotated[
            dict[Annotated[str, Meta(max_length=64)], Annotated[str, Meta(max_length=512)]],
            Meta(max_length=MAX_METADATA_PAIRS),
        ]
        | None
    ) = None
    output_expires_after: dict[str, Any] | None = None


class FileObject(msgspec.Struct, kw_only=True):
    """A file as its provider keeps it."""

    id: str
    object: Literal["file"]
    bytes: int | None = None
    created_at: int
    filename: str | None = None
    purpose: str
    status: str | None = None
    expires_at: int | None = None


class FileList(msgspec.Struct, kw_only=True):
    """``GET /v1/files``: the caller's files, newest first."""

    object: Literal["list"]
    data: list[FileObject]
    first_id: str | None
    last_id: str | None
    has_more: bool


class FileDeleted(msgspec.Struct, kw_only=True):
    """``DELETE /v1/files/{file_id}``."""

    id: str
    object: Literal["file"]
    deleted: bool


class RequestCounts(msgspec.Struct, kw_only=True):
    """How many of a batch's requests there are, and how many completed or failed."""

    total: int
    completed: int
    failed: int


class Batch(msgspec.Struct, kw_only=True):
    """A batch as its provider runs it."""

    id: str
    object: Literal["batch"]
    endpoint: str
    input_file_id: str
    completion_window: str
    status: str
    output_file_id: str | None = None
    error_file_id: str | None = None
    created_at: int
    completed_at: int | None = None
    cancelled_at: int | None = None
    request_counts: RequestCounts | None = None
    metadata: dict[str, str] | None = None


class BatchList(msgspec.Struct, kw_only=True):
    """``GET /v1/batches``: the caller's batches, newest first (each as last read)."""

    object: Literal["list"]
    data: list[Batch]
    first_id: str | None
    last_id: str | None
    has_more: bool
