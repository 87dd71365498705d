"""The OpenAPI description of the OpenAI surface's files and batches (served by the surface router).

As in :mod:`spec`, these handlers only describe: a call never reaches them. Every one needs a key
(``llm.call``) and sees only that key's objects (an admin: everybody's); another key's id is a 404.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Annotated, Any, Literal

import msgspec
from litestar import delete, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromQuery, JSONBody, Parameter

from routeiq_app.errors import ErrorBody
from routeiq_app.surfaces.openai.spec import _ERRORS, NotServedHere
from routeiq_app.surfaces.openai.wire_objects import (
    Batch,
    BatchCreateRequest,
    BatchList,
    FileDeleted,
    FileList,
    FileObject,
)
from routeiq_core.provider_objects import MAX_PAGE

_OBJECT_ERRORS = MappingProxyType(
    {
        **_ERRORS,
        404: ResponseSpec(ErrorBody, description="No such object (or another key's), or no such model."),
        413: ResponseSpec(ErrorBody, description="The file is larger than `files.max_upload_bytes`."),
    }
)
_Limit = Annotated[int, Parameter(ge=1, le=MAX_PAGE, description="Most objects on the page.")]
_After = Annotated[str | None, Parameter(max_length=128, description="The last id of the previous page.")]
_Order = Annotated[Literal["desc"], Parameter(description="Newest first (the only order).")]
_Id = Annotated[str, Parameter(max_length=128)]


class FileUpload(msgspec.Struct, kw_only=True):
    """``POST /v1/files``: the ``file``, its ``purpose``, and the model whose deployment keeps it.

    ``model`` (or LiteLLM's ``target_model_names``, or the ``x-routeiq-model`` header) may be left
    out when exactly one model group serves files.
    """

    file: UploadFile
    purpose: Literal["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]
    model: str | None = None


def _not_served(path: str) -> NotServedHere:
    return NotServedHere(f"{path} is served by the surface router, not by its OpenAPI description")


def _describe(**kw: Any) -> dict[str, Any]:
    return {"tags": ["openai"], "responses": dict(_OBJECT_ERRORS), "sync_to_thread": False, **kw}


@post(["/v1/files", "/files"], summary="Upload a file to a deployment", status_code=200, **_describe())
def upload_file(
    data: Annotated[FileUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> FileObject:
    """The named model's deployment (one serving files) keeps the file; RouteIQ records its owner."""
    raise _not_served("/v1/files")


@get(["/v1/files", "/files"], summary="List the caller's files", **_describe())
def list_files(
    after: _After = None, limit: _Limit = 20, order: _Order = "desc", purpose: FromQuery[str | None] = None
) -> FileList:
    """The caller's files (an admin's: everybody's), newest first; batches' output files included."""
    raise _not_served("/v1/files")


@get(["/v1/files/{file_id:str}", "/files/{file_id:str}"], summary="Retrieve a file", **_describe())
def retrieve_file(file_id: _Id) -> FileObject:
    """The file as its deployment describes it now."""
    raise _not_served("/v1/files/{file_id}")


@get(
    ["/v1/files/{file_id:str}/content", "/files/{file_id:str}/content"],
    summary="A file's content (streamed)",
    media_type="application/octet-stream",
    **_describe(),
)
def file_content(file_id: _Id) -> bytes:
    """The file's bytes, streamed from its deployment (a batch's output: JSONL)."""
    raise _not_served("/v1/files/{file_id}/content")


@delete(
    ["/v1/files/{file_id:str}", "/files/{file_id:str}"],
    summary="Delete a file",
    status_code=200,
    **_describe(),
)
def delete_file(file_id: _Id) -> FileDeleted:
    """Delete it at its deployment, then its record."""
    raise _not_served("/v1/files/{file_id}")


@post(
    ["/v1/batches", "/batches"],
    summary="Create a batch over an uploaded file",
    status_code=200,
    **_describe(),
)
def create_batch(data: JSONBody[BatchCreateRequest]) -> Batch:
    """The batch runs on the deployment holding `input_file_id` (the caller's file: a 404 otherwise)."""
    raise _not_served("/v1/batches")


@get(["/v1/batches", "/batches"], summary="List the caller's batches", **_describe())
def list_batches(after: _After = None, limit: _Limit = 20) -> BatchList:
    """The caller's batches (an admin's: everybody's), newest first, each as last read."""
    raise _not_served("/v1/batches")


@get(["/v1/batches/{batch_id:str}", "/batches/{batch_id:str}"], summary="Retrieve a batch", **_describe())
def retrieve_batch(batch_id: _Id) -> Batch:
    """The batch as its deployment reports it now; its output and error files become the caller's."""
    raise _not_served("/v1/batches/{batch_id}")


@post(
    ["/v1/batches/{batch_id:str}/cancel", "/batches/{batch_id:str}/cancel"],
    summary="Cancel a batch",
    status_code=200,
    **_describe(),
)
def cancel_batch(batch_id: _Id) -> Batch:
    """Ask its deployment to cancel it (`cancelling`, then `cancelled`)."""
    raise _not_served("/v1/batches/{batch_id}/cancel")


object_descriptions = (
    upload_file,
    list_files,
    retrieve_file,
    file_content,
    delete_file,
    create_batch,
    list_batches,
    retrieve_batch,
    cancel_batch,
)
"""The descriptions of the files and batches routes."""
