"""The ``openai`` adapter's files and batches: OpenAI's ``/files`` and ``/batches`` on the deployment's base.

An object is addressed by its id (``file_id``, ``batch_id`` in the payload, quoted into the path);
the gateway's ``model`` only routed the call and is not sent. An upload goes as a form, a batch as
JSON; reads, content, deletes and cancels carry no body.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import quote

import aiohttp
import msgspec

from routeiq_adapters.providers.openai_media import form
from routeiq_core.providers import Operation

_ROUTES = MappingProxyType(
    {
        Operation.FILE_UPLOAD: ("POST", "/files", None),
        Operation.FILE_RETRIEVE: ("GET", "/files/{}", "file_id"),
        Operation.FILE_CONTENT: ("GET", "/files/{}/content", "file_id"),
        Operation.FILE_DELETE: ("DELETE", "/files/{}", "file_id"),
        Operation.BATCH_CREATE: ("POST", "/batches", None),
        Operation.BATCH_RETRIEVE: ("GET", "/batches/{}", "batch_id"),
        Operation.BATCH_CANCEL: ("POST", "/batches/{}/cancel", "batch_id"),
    }
)


class UpstreamRequest(NamedTuple):
    """One upstream HTTP request: its method, URL, body (bytes, a form, or none) and whether it is JSON."""

    method: str
    url: str
    data: bytes | aiohttp.FormData | None
    json_body: bool


def object_request(
    base: str, operation: Operation, payload: dict[str, Any], encoder: msgspec.json.Encoder
) -> UpstreamRequest:
    """The request of a files or batches call on the deployment at ``base`` (``https://.../v1``)."""
    method, path, id_field = _ROUTES[operation]
    if id_field is not None:
        path = path.format(quote(str(payload.get(id_field) or ""), safe=""))
    body = {k: v for k, v in payload.items() if k not in ("model", id_field)}
    if operation is Operation.FILE_UPLOAD:
        return UpstreamRequest(method, base + path, form(body), False)
    if operation is Operation.BATCH_CREATE:
        return UpstreamRequest(method, base + path, encoder.encode(body), True)
    return UpstreamRequest(method, base + path, None, False)
