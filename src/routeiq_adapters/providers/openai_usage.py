"""The ``openai`` adapter's reading of an answer's usage: chat's ``usage``, or images' token counts."""

from __future__ import annotations

import msgspec

from routeiq_core.catalog import Deployment
from routeiq_core.errors import UpstreamError
from routeiq_core.providers import Operation, Usage


class _UsageOnly(msgspec.Struct):
    usage: Usage | None = None


class _ImageUsage(msgspec.Struct):
    """``usage`` of an image or transcription answer (``input_tokens`` and ``output_tokens``)."""

    input_tokens: int = 0
    output_tokens: int = 0


class _ImageUsageOnly(msgspec.Struct):
    usage: _ImageUsage | None = None


_USAGE_DECODER = msgspec.json.Decoder(_UsageOnly)
_TOKEN_USAGE = frozenset({Operation.IMAGES, Operation.IMAGE_EDITS, Operation.AUDIO_TRANSCRIPTION})
"""The operations whose usage counts ``input_tokens`` and ``output_tokens``."""
_IMAGE_USAGE_DECODER = msgspec.json.Decoder(_ImageUsageOnly)


def answer_usage(body: bytes, deployment: Deployment, operation: Operation) -> Usage | None:
    """The token usage a complete answer reports (None: none, or in a shape not understood).

    Raises:
        UpstreamError: 502 (retryable) when a JSON answer is not JSON.
    """
    if operation is Operation.AUDIO_TRANSCRIPTION and not body.lstrip().startswith(b"{"):
        return None  # a text, SRT or VTT transcript
    try:
        if operation not in _TOKEN_USAGE:
            return _USAGE_DECODER.decode(body).usage
        found = _IMAGE_USAGE_DECODER.decode(body).usage
        if found is None:
            return None  # DALL-E reports none: metered by the prompt estimate
        total = found.input_tokens + found.output_tokens
        return Usage(
            prompt_tokens=found.input_tokens, completion_tokens=found.output_tokens, total_tokens=total
        )
    except msgspec.ValidationError:
        return None  # JSON with an unusual usage shape: relay it, count nothing
    except msgspec.DecodeError:
        raise UpstreamError(
            f"Deployment {deployment.id!r} answered with a body that is not JSON: {body[:200]!r}",
            status_code=502,
            retryable=True,
            deployment_id=deployment.id,
        ) from None
