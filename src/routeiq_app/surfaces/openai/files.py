"""``/v1/files``: uploads kept by a provider's deployment, listed, read, streamed and deleted.

``read → caller → use case → write``: the rules (which deployment keeps an upload, who may see a
file, which deployment every later call goes to) are :class:`~routeiq_core.provider_objects.
ProviderObjects`'. The upload is read within ``files.max_upload_bytes`` (a 413 beyond it) by the
bounded form reader; a file's content is streamed as its deployment sends it.
"""

from __future__ import annotations

import functools

from routeiq_app.asgi_io import PayloadTooLarge, read_body, send_json, send_stream
from routeiq_app.asgi_types import ASGIApp, Receive, Scope, Send
from routeiq_app.surfaces.http import HttpRequestReader, result_headers
from routeiq_app.surfaces.openai.forms import decode_form
from routeiq_app.surfaces.openai.objects_http import (
    allow,
    caller_of,
    item_of,
    page_of,
    query_of,
    send_answer,
    send_page,
)
from routeiq_app.surfaces.openai.wire_objects import FileUploadForm
from routeiq_core.calls import CallRequest, CallStream
from routeiq_core.errors import InvalidRequestError
from routeiq_core.provider_objects import ProviderObjects
from routeiq_core.providers import UploadedFile

FILES_PATHS = ("/v1/files", "/files")
FILE_PREFIXES = ("/v1/files/", "/files/")
FORM_OVERHEAD_BYTES = 64 * 1024
"""What a form may hold besides its file (boundaries, part headers, text fields)."""
_CONTENT = ((b"content-type", b"application/octet-stream"),)


def file_routes(
    objects: ProviderObjects, reader: HttpRequestReader, max_upload_bytes: int
) -> tuple[dict[str, ASGIApp], dict[str, ASGIApp]]:
    """The files handlers: by exact path (upload, list) and by path prefix (one file)."""

    async def files(scope: Scope, receive: Receive, send: Send) -> None:
        """OpenAI files: upload (POST, a form) or list the caller's (GET)."""
        caller = caller_of(reader, scope)
        if allow(scope, "GET", "POST") == "GET":
            query = query_of(scope)
            after, limit = page_of(query)
            purpose = query.get("purpose") or None
            await send_page(
                send, await objects.list(caller, "file", after=after, limit=limit, purpose=purpose)
            )
            return
        body = await read_body(receive, max_upload_bytes + FORM_OVERHEAD_BYTES)
        decode = functools.partial(_decode_upload, body, scope, max_upload_bytes)
        await send_answer(send, await objects.upload(caller, decode))

    async def file(scope: Scope, receive: Receive, send: Send) -> None:
        """OpenAI files: retrieve (GET), delete (DELETE), or stream the content (GET .../content)."""
        prefix = FILE_PREFIXES[0] if scope["path"].startswith(FILE_PREFIXES[0]) else FILE_PREFIXES[1]
        file_id, action = item_of(scope, prefix, frozenset({"content"}))
        caller = caller_of(reader, scope)
        if action == "content":
            allow(scope, "GET")
            async with objects.content(caller, file_id) as result:
                headers = result_headers(result.context, with_cost=False)
                if isinstance(result, CallStream):
                    await send_stream(send, receive, result.frames, headers, content=_CONTENT)
                else:  # a plugin answered it whole
                    await send_json(send, 200, result.body, headers, content_type=_CONTENT[0][1])
        elif allow(scope, "GET", "DELETE") == "GET":
            await send_answer(send, await objects.retrieve(caller, "file", file_id))
        else:
            await send_answer(send, await objects.delete_file(caller, file_id))

    return dict.fromkeys(FILES_PATHS, files), dict.fromkeys(FILE_PREFIXES, file)


def _decode_upload(body: bytes, scope: Scope, max_upload_bytes: int) -> CallRequest:
    """The form as the upload's payload: ``file``, ``purpose``, and the model that routes it, if named."""
    request = decode_form(
        body, scope, wire_type=FileUploadForm, files=frozenset({"file"}), required="file", numbers={}
    )
    payload = request.payload
    upload = payload.get("file")
    if not isinstance(upload, UploadedFile):
        raise InvalidRequestError("Invalid request: send exactly one `file`.", param="file")
    if len(upload.data) > max_upload_bytes:
        raise PayloadTooLarge(
            f"The file is {len(upload.data)} bytes; this gateway takes files of up to "
            f"{max_upload_bytes} bytes (files.max_upload_bytes)."
        )
    targets = payload.pop("target_model_names", None)
    named = [m.strip() for m in targets.split(",") if m.strip()] if isinstance(targets, str) else []
    if len(named) > 1:
        raise InvalidRequestError(
            "Name one model in target_model_names: a file lives on one deployment.",
            param="target_model_names",
        )
    model = payload.get("model") or (named[0] if named else None) or _header_model(scope)
    if model:
        payload["model"] = model
    return request


def _header_model(scope: Scope) -> str | None:
    """The ``x-routeiq-model`` header (bounded), if sent."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"x-routeiq-model":
            text = value.decode("latin-1").strip()
            return text[:256] or None
    return None
