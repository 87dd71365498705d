"""A bounded ``multipart/form-data`` reader for uploads (the body is already read, within its limit).

One pass of ``bytes.find`` over the body: no part is copied twice, the number of parts and the size
of each text field and of every part's headers are capped, and anything malformed is a 400.
"""

from __future__ import annotations

from email.message import Message

import msgspec

from routeiq_core.errors import InvalidRequestError

MAX_PARTS = 64
MAX_FIELD_BYTES = 64 * 1024
MAX_HEADER_BYTES = 8 * 1024


class FormPart(msgspec.Struct, frozen=True, kw_only=True):
    """One part of a form: a text field (``filename`` None) or a file."""

    name: str
    data: bytes
    filename: str | None = None
    media_type: str = "application/octet-stream"


def _bad(detail: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"The body is not a valid multipart/form-data upload: {detail}.", code="invalid_form"
    )


def boundary_of(content_type: str) -> bytes:
    """The boundary a ``Content-Type`` header names; a 400 unless it is a form upload with one."""
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise InvalidRequestError(
            "Send the upload as multipart/form-data (Content-Type: multipart/form-data; boundary=...).",
            code="invalid_content_type",
        )
    if not 1 <= len(boundary) <= 70 or not boundary.isascii():
        raise _bad("its boundary must be 1 to 70 ASCII characters")
    return boundary.encode()


def parse_form(body: bytes, boundary: bytes) -> list[FormPart]:
    """The parts of a form body, in order."""
    delimiter = b"--" + boundary
    if not body.startswith(delimiter):
        raise _bad("it does not start with its boundary")
    separator = b"\r\n" + delimiter
    parts: list[FormPart] = []
    position = len(delimiter)
    while not body.startswith(b"--", position):  # the closing delimiter ends the form
        if not body.startswith(b"\r\n", position):
            raise _bad("a boundary is not followed by a line break")
        end = body.find(separator, position)
        if end < 0:
            raise _bad("it ends before its closing boundary")
        if len(parts) == MAX_PARTS:
            raise _bad(f"it has more than {MAX_PARTS} parts")
        parts.append(_part(body[position + 2 : end]))
        position = end + len(separator)
    return parts


def _part(raw: bytes) -> FormPart:
    head_end = raw.find(b"\r\n\r\n")
    if head_end < 0 or head_end > MAX_HEADER_BYTES:
        raise _bad(f"a part has no headers, or more than {MAX_HEADER_BYTES} bytes of them")
    header = Message()
    for line in raw[:head_end].decode("utf-8", "replace").split("\r\n"):
        key, colon, value = line.partition(":")
        if not colon:
            raise _bad(f"a part header is malformed: {line[:60]!r}")
        header[key.strip()] = value.strip()
    if header.get_content_disposition() != "form-data":
        raise _bad("a part is not form-data")
    name = header.get_param("name", header="content-disposition")
    if not isinstance(name, str) or not name:
        raise _bad("a part has no name")
    data = raw[head_end + 4 :]
    found = header.get_filename()
    filename = found if isinstance(found, str) else None
    if filename is None and len(data) > MAX_FIELD_BYTES:
        raise _bad(f"the field {name!r} is longer than {MAX_FIELD_BYTES} bytes")
    media_type = header.get_content_type() if "content-type" in header else "application/octet-stream"
    return FormPart(name=name, data=data, filename=filename, media_type=media_type)
