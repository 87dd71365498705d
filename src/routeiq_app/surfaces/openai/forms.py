"""Upload calls' forms (transcriptions, image edits) read into a call request.

The form is read by the bounded :mod:`multipart` reader; file parts become
:class:`~routeiq_core.providers.UploadedFile` values (a ``name[]`` part, or a repeated name, a list
of them), text parts strings, and the numeric fields numbers, before the operation's wire type
checks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routeiq_app.asgi_types import Scope
from routeiq_app.json_body import validate
from routeiq_app.surfaces.openai.multipart import FormPart, boundary_of, parse_form
from routeiq_core.calls import CallRequest
from routeiq_core.errors import InvalidRequestError
from routeiq_core.providers import UploadedFile

MAX_FILENAME_CHARS = 256


def decode_form(
    body: bytes,
    scope: Scope,
    *,
    wire_type: type[Any],
    files: frozenset[str],
    required: str,
    numbers: Mapping[str, type[int] | type[float]],
) -> CallRequest:
    """The form as a call request: ``files`` parts are uploads (``required`` must be there)."""
    content_type = next(
        (v.decode("latin-1") for k, v in scope.get("headers", ()) if k.lower() == b"content-type"), ""
    )
    payload: dict[str, Any] = {}
    uploads: dict[str, list[UploadedFile]] = {}
    listed: set[str] = set()
    for part in parse_form(body, boundary_of(content_type)):
        name = part.name.removesuffix("[]")
        if name != part.name:
            listed.add(name)
        if name in files:
            uploads.setdefault(name, []).append(_upload(part))
        elif name in listed:
            payload.setdefault(name, []).append(_text(part))
        else:
            payload[name] = _text(part)
    for name, kind in numbers.items():
        if isinstance(payload.get(name), str):
            payload[name] = _number(payload[name], name, kind)
    validate(payload, wire_type)
    if required not in uploads:
        raise InvalidRequestError(f"Invalid request: the form has no `{required}` file.", param=required)
    for name, found in uploads.items():
        payload[name] = found if name in listed or len(found) > 1 else found[0]
    return CallRequest(payload=payload)


def _upload(part: FormPart) -> UploadedFile:
    if part.filename is None or not part.data:
        message = f"Invalid request: `{part.name}` must be a non-empty file upload."
        raise InvalidRequestError(message, param=part.name)
    return UploadedFile(
        filename=part.filename[:MAX_FILENAME_CHARS], media_type=part.media_type, data=part.data
    )


def _text(part: FormPart) -> str:
    try:
        return part.data.decode("utf-8")
    except UnicodeDecodeError:
        message = f"Invalid request: the field {part.name!r} is not UTF-8 text."
        raise InvalidRequestError(message, param=part.name) from None


def _number(text: str, name: str, kind: type[int] | type[float]) -> int | float:
    try:
        return kind(text)
    except ValueError:
        message = f"Invalid request: {name} must be {'an integer' if kind is int else 'a number'}."
        raise InvalidRequestError(message, param=name) from None
