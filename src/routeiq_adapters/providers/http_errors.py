"""Turning an OpenAI-compatible upstream's failure answer into an :class:`UpstreamError`.

Technology-neutral: takes the status, the raw body and the headers, whatever HTTP client read them.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

import msgspec

from routeiq_core.errors import UpstreamError

_EXCERPT_CHARS = 200


class _ErrorDetail(msgspec.Struct):
    message: str | None = None
    type: str | None = None
    code: str | int | None = None
    param: str | None = None


class _ErrorBody(msgspec.Struct):
    """OpenAI's ``{"error": {...}}``, ``{"error": "..."}``, or vLLM's top-level ``{"object": "error"}``."""

    error: _ErrorDetail | str | None = None
    object: str | None = None
    message: str | None = None
    detail: str | None = None
    type: str | None = None
    code: str | int | None = None
    param: str | None = None

    def reported_error(self) -> _ErrorDetail | None:
        if isinstance(self.error, _ErrorDetail):
            return self.error
        if isinstance(self.error, str):
            return _ErrorDetail(message=self.error)
        if self.object == "error":
            return _ErrorDetail(message=self.message, type=self.type, code=self.code, param=self.param)
        return None


def is_retryable_status(status: int) -> bool:
    """Whether another attempt may succeed: 408, 429 and every 5xx."""
    return status in (408, 429) or status >= 500


def error_from_status(
    status: int, body: bytes, headers: Mapping[str, str], deployment_id: str | None
) -> UpstreamError:
    """The error for a non-2xx upstream answer.

    Keeps the upstream's OpenAI-style message, type, code and param when its body has them (so
    ``context_length_exceeded`` survives), and its ``Retry-After``.

    Args:
        status: The upstream's HTTP status.
        body: The raw response body.
        headers: The response headers (looked up case-insensitively when the mapping supports it).
        deployment_id: The deployment that answered.
    """
    detail = _detail(body)
    client_status = status if 400 <= status < 600 else 502  # a redirect or an odd status: a bad gateway
    if 300 <= status < 400:
        message = (
            f"Deployment {deployment_id!r} answered HTTP {status}, a redirect (to "
            f"{headers.get('location') or headers.get('Location') or 'nowhere said'}); upstream "
            "redirects are never followed: check its api_base"
        )
    else:
        message = detail.message or (
            f"Deployment {deployment_id!r} answered HTTP {status}: {_excerpt(body) or '(empty body)'}"
        )
    return UpstreamError(
        message,
        status_code=client_status,
        retryable=is_retryable_status(client_status),  # another deployment may well answer
        retry_after_s=retry_after_seconds(headers),
        deployment_id=deployment_id,
        error_type=detail.type or None,
        code=_code(detail),
        param=detail.param,
    )


def error_from_event(data: bytes, deployment_id: str | None) -> UpstreamError | None:
    """The error an in-stream event (``{"error": {...}}``) reports; None when it is no error event.

    The status is the error's numeric ``code`` when it is an HTTP status (vLLM sends one), else 502.
    """
    try:
        detail = msgspec.json.decode(data, type=_ErrorBody).reported_error()
    except msgspec.DecodeError:
        return None
    if detail is None:
        return None
    code = detail.code
    status = code if isinstance(code, int) and 400 <= code < 600 else 502
    return UpstreamError(
        detail.message or f"Deployment {deployment_id!r} reported an error mid-stream: {_excerpt(data)}",
        status_code=status,
        retryable=is_retryable_status(status),
        deployment_id=deployment_id,
        error_type=detail.type or None,
        code=_code(detail),
        param=detail.param,
    )


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), if there is one."""
    raw = headers.get("Retry-After") or headers.get("retry-after")
    if not raw:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _detail(body: bytes) -> _ErrorDetail:
    try:
        decoded = msgspec.json.decode(body, type=_ErrorBody)
    except msgspec.DecodeError:
        return _ErrorDetail()
    return decoded.reported_error() or _ErrorDetail(message=decoded.message or decoded.detail)


def _code(detail: _ErrorDetail) -> str | None:
    """The machine-readable code; a bare HTTP status in its place (vLLM) is no code."""
    code = detail.code
    return None if code is None or isinstance(code, int) or code.isdigit() else code


def _excerpt(body: bytes) -> str:
    text = body[: _EXCERPT_CHARS * 4].decode("utf-8", errors="replace").strip()
    text = " ".join(text.split())
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "..."
