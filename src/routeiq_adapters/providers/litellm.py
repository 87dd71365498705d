"""Every provider LiteLLM speaks (Anthropic, Bedrock, Vertex, Azure, ...), behind the provider port.

LiteLLM is imported when the adapter is built, not when this module is, and never fetches its price
map from the network. OpenAI-compatible upstreams should use the faster ``openai`` adapter instead.
"""

from __future__ import annotations

import importlib
import os
import re
import socket
from collections.abc import AsyncIterator, Mapping
from types import MappingProxyType
from typing import Any

import aiohttp
import anyio
import httpx
import msgspec

from routeiq_adapters.providers.http_errors import is_retryable_status, retry_after_seconds
from routeiq_core.catalog import Deployment
from routeiq_core.errors import UpstreamError, UpstreamTimeoutError
from routeiq_core.operations import BYTE_STREAMS, STREAMABLE
from routeiq_core.providers import Operation, ProviderReply, UploadedFile, Usage
from routeiq_core.sse import data_frame

# LiteLLM arguments a client must not set through the request body: they would redirect the call
# (and its key), swap credentials, or change how LiteLLM retries and logs.
_RESERVED = frozenset(
    {
        "model", "stream", "timeout", "request_timeout", "api_base", "base_url", "api_key", "api_version",
        "custom_llm_provider", "extra_headers", "headers", "client", "shared_session", "model_list",
        "deployment_id", "max_retries", "num_retries", "fallbacks", "metadata", "mock_response",
        "logger_fn", "callbacks", "acompletion", "aembedding", "atext_completion", "amoderation",
        "aimage_generation", "aimage_edit", "arerank", "aspeech", "atranscription",
    }
)  # fmt: skip
_RESERVED_PREFIXES = ("litellm_", "aws_", "vertex_", "azure_", "_")
_DEFAULTS = MappingProxyType({"max_retries": 0, "num_retries": 0})  # the gateway retries, not LiteLLM
_PREFIX = re.compile(r"^(?:litellm\.\w+:\s*)*(?:\w+Error:\s*)*(?:\w+Exception\s*-\s*)?")
_CLOSE_TIMEOUT_S = 5.0
_FUNCTIONS = MappingProxyType(
    {
        Operation.CHAT: "acompletion",
        Operation.COMPLETIONS: "atext_completion",
        Operation.EMBEDDINGS: "aembedding",
        Operation.MODERATIONS: "amoderation",
        Operation.IMAGES: "aimage_generation",
        Operation.IMAGE_EDITS: "aimage_edit",
        Operation.RERANK: "arerank",
        Operation.AUDIO_SPEECH: "aspeech",
        Operation.AUDIO_TRANSCRIPTION: "atranscription",
    }
)
"""The LiteLLM function of each operation (every operation the port knows has one)."""


class LiteLLMProvider:
    """The ``litellm`` adapter of the provider port.

    ``deployment.upstream_model`` is the full LiteLLM model string (``anthropic/claude-...``), and
    ``deployment.params["litellm_extra"]`` adds keyword arguments to every call (trusted configuration).
    Request fields that are LiteLLM control arguments (``api_base``, ``mock_response``, ...) are
    dropped, so a client can neither redirect a call nor read its key.
    """

    def __init__(self) -> None:
        self._litellm = _import_litellm()
        self._reserved = _RESERVED | frozenset(getattr(self._litellm, "all_litellm_params", ()))
        self._encoder = msgspec.json.Encoder()

    async def send(
        self,
        deployment: Deployment,
        operation: Operation,
        payload: dict[str, Any],
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
    ) -> ProviderReply:
        """Make one call through LiteLLM and return its answer as OpenAI JSON, within ``timeout_s``."""
        if operation not in _FUNCTIONS:  # files and batches: OpenAI-compatible deployments only
            raise UpstreamError(
                f"LiteLLM deployments do not pass {operation.value} calls; serve files and batches "
                "from an openai/ or mock/ deployment.",
                status_code=400,
                deployment_id=deployment.id,
                code="unsupported_operation",
            )
        kwargs = self._kwargs(deployment, payload, timeout_s, headers, stream=False)
        try:
            with anyio.fail_after(timeout_s):
                response = await self._call(operation)(**kwargs)
        except Exception as exc:  # LiteLLM raises many types; _error maps each
            raise self._error(exc, deployment, timeout_s) from exc
        if operation is Operation.AUDIO_SPEECH:
            return ProviderReply(body=response.content)
        body = response.model_dump()
        return ProviderReply(body=self._encoder.encode(body), usage=_usage(body.get("usage")))

    async def stream(
        self,
        deployment: Deployment,
        operation: Operation,
        payload: dict[str, Any],
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[bytes]:
        """Stream through LiteLLM, one SSE frame per chunk; each chunk must come within ``timeout_s``."""
        if operation in BYTE_STREAMS:  # LiteLLM answers speech whole: sent as one chunk
            reply = await self.send(deployment, operation, payload, timeout_s=timeout_s, headers=headers)
            yield reply.body
            return
        if operation not in STREAMABLE:
            raise UpstreamError(
                f"{operation.value} cannot be streamed.", status_code=400, deployment_id=deployment.id
            )
        kwargs = self._kwargs(deployment, payload, timeout_s, headers, stream=True)
        try:
            with anyio.fail_after(timeout_s):
                chunks = await self._call(operation)(**kwargs)
        except Exception as exc:  # LiteLLM raises many types; _error maps each
            raise self._error(exc, deployment, timeout_s) from exc
        iterator = aiter(chunks)
        try:
            while True:
                try:
                    with anyio.fail_after(timeout_s):
                        chunk = await anext(iterator)
                except StopAsyncIteration:
                    return
                except Exception as exc:  # LiteLLM raises many types; _error maps each
                    raise self._error(exc, deployment, timeout_s) from exc
                yield data_frame(self._encoder.encode(chunk.model_dump(exclude_none=True)))
        finally:
            await _close(chunks)

    async def aclose(self) -> None:
        """Close the HTTP clients LiteLLM cached for this process."""
        close = getattr(self._litellm, "close_litellm_async_clients", None)
        if close is not None:
            with anyio.move_on_after(_CLOSE_TIMEOUT_S, shield=True):
                await close()

    def _call(self, operation: Operation) -> Any:
        return getattr(self._litellm, _FUNCTIONS[operation])

    def _kwargs(
        self,
        deployment: Deployment,
        payload: Mapping[str, Any],
        timeout_s: float,
        headers: Mapping[str, str] | None,
        *,
        stream: bool,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = dict(_DEFAULTS)
        kwargs.update((k, v) for k, v in payload.items() if not self._is_reserved(k))
        extra = deployment.params.get("litellm_extra")
        if isinstance(extra, Mapping):
            kwargs.update(extra)
        kwargs.update(model=deployment.upstream_model, timeout=timeout_s)
        for key, value in kwargs.items():  # uploads as the OpenAI client takes files
            if isinstance(value, UploadedFile):
                kwargs[key] = _file(value)
            elif isinstance(value, list) and value and isinstance(value[0], UploadedFile):
                kwargs[key] = [_file(item) for item in value]
        if stream:
            kwargs["stream"] = True
        if deployment.api_base is not None:
            kwargs["api_base"] = deployment.api_base
        if deployment.api_key is not None:
            kwargs["api_key"] = deployment.api_key
        if headers:  # the trace context, beside any extra_headers the deployment configures
            configured = kwargs.get("extra_headers")
            kwargs["extra_headers"] = {**(configured if isinstance(configured, Mapping) else {}), **headers}
        return kwargs

    def _is_reserved(self, key: str) -> bool:
        return key in self._reserved or key.startswith(_RESERVED_PREFIXES)

    def _error(self, exc: Exception, deployment: Deployment, timeout_s: float) -> UpstreamError:
        if isinstance(exc, UpstreamError):
            return exc
        if isinstance(exc, TimeoutError | self._litellm.Timeout):
            return UpstreamTimeoutError(
                f"Deployment {deployment.id!r} did not answer within {timeout_s:g}s",
                deployment_id=deployment.id,
            )
        message = _message(exc)
        if isinstance(exc, self._litellm.ContextWindowExceededError):
            return UpstreamError(
                message,
                status_code=400,
                deployment_id=deployment.id,
                error_type="invalid_request_error",
                code="context_length_exceeded",
                param="messages",
            )
        if _caused_by_connection_failure(exc) or isinstance(exc, self._litellm.APIConnectionError):
            if _caused_by_connect_error(exc):
                return UpstreamError(
                    f"Cannot connect to deployment {deployment.id!r}: {message} "
                    "Check its api_base and that the upstream is running.",
                    status_code=502,
                    retryable=True,
                    deployment_id=deployment.id,
                    code="upstream_unreachable",
                )
            return UpstreamError(
                f"Deployment {deployment.id!r}: the connection failed ({message}).",
                status_code=502,
                retryable=True,
                deployment_id=deployment.id,
            )
        return _status_error(exc, message, deployment)


def _file(upload: UploadedFile) -> tuple[str, bytes, str]:
    return (upload.filename, upload.data, upload.media_type)


def _import_litellm() -> Any:
    # The price map is bundled; fetching it at import would hang a machine without internet.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    module: Any = importlib.import_module("litellm")
    module.suppress_debug_info = True  # no "Give Feedback / Get Help" banners on stderr per error
    module.turn_off_message_logging = True  # prompts never reach LiteLLM's logging payloads
    if hasattr(module, "telemetry"):
        module.telemetry = False
    return module


def _status_error(exc: Exception, message: str, deployment: Deployment) -> UpstreamError:
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int) or not 400 <= status < 600:
        status = 502
    body = getattr(exc, "body", None)
    detail: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    code = detail.get("code") or getattr(exc, "code", None)
    if isinstance(code, int) or (isinstance(code, str) and code.isdigit()):
        code = None  # LiteLLM puts the HTTP status there when the upstream sent no code
    param = getattr(exc, "param", None) or detail.get("param")
    return UpstreamError(
        message,
        status_code=status,
        retryable=is_retryable_status(status) if hasattr(exc, "status_code") else False,
        retry_after_s=_retry_after(exc),
        deployment_id=deployment.id,
        code=None if code is None else str(code),
        param=param if isinstance(param, str) else None,
    )


def _message(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping) and isinstance(body.get("message"), str) and body["message"]:
        return str(body["message"])
    raw = getattr(exc, "message", None)
    text = raw if isinstance(raw, str) and raw else f"{type(exc).__name__}: {exc}"
    return _PREFIX.sub("", text, count=1) or text


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(exc, "litellm_response_headers", None)
    if not isinstance(headers, Mapping):
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
    return retry_after_seconds(headers) if isinstance(headers, Mapping) else None


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(found) < 16 and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _caused_by_connection_failure(exc: BaseException) -> bool:
    kinds = (OSError, aiohttp.ClientConnectionError, httpx.TransportError)
    return any(isinstance(e, kinds) for e in _chain(exc))


def _caused_by_connect_error(exc: BaseException) -> bool:
    kinds = (ConnectionRefusedError, socket.gaierror, aiohttp.ClientConnectorError, httpx.ConnectError)
    return any(isinstance(e, kinds) for e in _chain(exc))


def _usage(raw: object) -> Usage | None:
    if not isinstance(raw, Mapping):
        return None
    if "input_tokens" in raw and "prompt_tokens" not in raw:  # an image answer's usage
        raw = {
            "prompt_tokens": raw.get("input_tokens") or 0,
            "completion_tokens": raw.get("output_tokens") or 0,
            "total_tokens": raw.get("total_tokens") or 0,
        }
    try:
        return msgspec.convert(raw, Usage)
    except msgspec.ValidationError:
        return None


async def _close(chunks: object) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        with anyio.move_on_after(_CLOSE_TIMEOUT_S, shield=True):
            await aclose()
