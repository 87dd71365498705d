"""The ``openai`` adapter's media calls: speech streamed back as raw bytes, uploads sent as forms."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import aiohttp

from routeiq_adapters.providers.http_errors import error_from_event, error_from_status
from routeiq_core.catalog import Deployment
from routeiq_core.errors import UpstreamError
from routeiq_core.providers import UploadedFile

TransportError = Callable[[BaseException], UpstreamError]
"""Maps an aiohttp failure to the adapter's upstream error (it knows the deployment and the timeout)."""


def form(payload: Mapping[str, Any]) -> aiohttp.FormData:
    """An upload's payload as ``multipart/form-data``: its files, and every other field as text."""
    data = aiohttp.FormData()
    for key, value in payload.items():
        if isinstance(value, UploadedFile):
            data.add_field(key, value.data, filename=value.filename, content_type=value.media_type)
        elif isinstance(value, list):  # timestamp_granularities[], image[] and the like
            for item in value:
                if isinstance(item, UploadedFile):
                    data.add_field(
                        f"{key}[]", item.data, filename=item.filename, content_type=item.media_type
                    )
                else:
                    data.add_field(f"{key}[]", str(item))
        elif value is not None:
            data.add_field(key, str(value).lower() if isinstance(value, bool) else str(value))
    return data


async def stream_bytes(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes | aiohttp.FormData | None,
    headers: Mapping[str, str],
    *,
    timeout_s: float,
    deployment: Deployment,
    transport_error: TransportError,
    method: str = "POST",
    json_is_error: bool = True,
) -> AsyncIterator[bytes]:
    """Send ``body`` and yield the answer's bytes as they arrive (speech audio, a file's content).

    Connecting and each read must each finish within ``timeout_s``; closing the iterator early closes
    the connection, which cancels the upstream request. With ``json_is_error`` (speech), a JSON
    answer is an error, not audio.
    """
    timeout = aiohttp.ClientTimeout(total=None, connect=timeout_s, sock_read=timeout_s)
    try:
        response = await session.request(
            method,
            url,
            data=body,
            headers={**headers, "Accept": "*/*"},
            timeout=timeout,
            allow_redirects=False,
        )
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise transport_error(exc) from exc
    finished = False
    try:
        if not 200 <= response.status < 300:
            raise error_from_status(response.status, await response.read(), response.headers, deployment.id)
        if json_is_error and response.content_type == "application/json":  # an error, or no speech
            answer = await response.read()
            raise error_from_event(answer, deployment.id) or UpstreamError(
                f"Deployment {deployment.id!r} answered a speech request with JSON, not audio: "
                f"{answer[:120]!r}",
                status_code=502,
                deployment_id=deployment.id,
            )
        async for chunk in response.content.iter_any():
            yield chunk
        finished = True
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise transport_error(exc) from exc
    finally:
        if finished:
            response.release()
        else:
            response.close()
