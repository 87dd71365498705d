"""A built-in provider that needs no network: it plays an agent's model, deterministically.

Behaviour comes from the deployment's ``params["mock"]`` (see :class:`MockBehaviour`), so the demo
config and the tests exercise the real gateway path without credentials. What it answers (text,
tool calls, JSON for a schema, ``n``/``stop``/``max_tokens``/``logprobs``/``seed``) is decided in
:mod:`mock_agent`; how it is written out in :mod:`mock_wire`. See docs/gateway.md, "The mock provider".
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any

import anyio
import msgspec
from msgspec import Meta

from routeiq_adapters.providers import mock_audio, mock_tasks, mock_wire
from routeiq_adapters.providers.mock_agent import MockAnswer, MockRequestError, plan
from routeiq_adapters.providers.mock_objects import MockObjects
from routeiq_core.catalog import Deployment
from routeiq_core.errors import UpstreamError, UpstreamTimeoutError
from routeiq_core.gateway.types import estimate_prompt_tokens
from routeiq_core.operations import PROVIDER_OBJECTS
from routeiq_core.providers import Operation, ProviderReply, Usage
from routeiq_core.sse import data_frame

MAX_EMBEDDING_DIM = 8_192
MAX_EMBEDDING_INPUTS = 2_048
MAX_EMBEDDING_FLOATS = 2_000_000
"""Most numbers one embeddings answer holds (inputs times dimensions)."""

_NonNegative = Annotated[float, Meta(ge=0)]
_Count = Annotated[int, Meta(ge=0)]
_Status = Annotated[int, Meta(ge=400, le=599)]


class MockStep(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What one call to a mock deployment does, in its ``script`` (an empty step answers normally)."""

    status: Annotated[
        _Status | None, Meta(description="Fail with this status (429 and 5xx are retryable).")
    ] = None
    message: Annotated[str | None, Meta(description="The failure's message.")] = None
    retry_after_s: Annotated[
        _NonNegative | None, Meta(description="`Retry-After` of the failure, in seconds.")
    ] = None
    cut_after: Annotated[
        _Count | None,
        Meta(description="Streams: break off after this many chunks (a JSON answer fails with 502)."),
    ] = None
    latency_ms: Annotated[
        _NonNegative | None, Meta(description="This call's delay (default: the usual).")
    ] = None


class MockBehaviour(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How a mock deployment answers."""

    content: Annotated[str, Meta(description="The reply text (streamed word by word).")] = (
        "This is a mock response from RouteIQ."
    )
    echo: Annotated[bool, Meta(description="Reply with the last user message instead of `content`.")] = False
    tool_calls: Annotated[
        bool, Meta(description="Answer requests that offer tools with tool calls (false: always text).")
    ] = True
    prompt_tokens: Annotated[
        _Count | None, Meta(description="Reported prompt tokens (empty: estimated from the request).")
    ] = None
    completion_tokens: Annotated[
        _Count | None, Meta(description="Reported completion tokens (empty: the tokens generated).")
    ] = None
    latency_ms: Annotated[_NonNegative, Meta(description="Delay before a JSON answer.")] = 0.0
    ttft_ms: Annotated[_NonNegative, Meta(description="Delay before the first streamed chunk.")] = 0.0
    inter_token_ms: Annotated[_NonNegative, Meta(description="Delay between streamed writes.")] = 0.0
    chunk_tokens: Annotated[int, Meta(ge=1, le=1024, description="Tokens (words) per streamed delta.")] = 1
    frames_per_write: Annotated[
        int, Meta(ge=1, le=1024, description="SSE events sent together in one write.")
    ] = 1
    error_rate: Annotated[
        float, Meta(ge=0, le=1, description="Share of calls (0..1) that fail with `error_status`.")
    ] = 0.0
    error_status: Annotated[
        _Status, Meta(description="Status of injected failures (429 and 5xx are retryable).")
    ] = 500
    embedding_dim: Annotated[
        int,
        Meta(ge=1, le=MAX_EMBEDDING_DIM, description="Length of embeddings (a request's `dimensions` wins)."),
    ] = 8
    seed: Annotated[
        int, Meta(description="Seed of the injected-failure sequence (deterministic per deployment).")
    ] = 0
    script: Annotated[
        tuple[MockStep, ...],
        Meta(description="What the 1st, 2nd, ... call does (status, cut stream, latency); then as usual."),
    ] = ()
    repeat_script: Annotated[bool, Meta(description="Start the script again after its last step.")] = False


class MockProvider:
    """The ``mock`` adapter of the provider port."""

    def __init__(self) -> None:
        self._rngs: dict[str, random.Random] = {}
        self._served: dict[str, int] = {}
        self.calls = 0
        self._objects = MockObjects(lambda d, op, payload, t: self.send(d, op, payload, timeout_s=t))

    async def send(
        self,
        deployment: Deployment,
        operation: Operation,
        payload: dict[str, Any],
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
    ) -> ProviderReply:
        """Answer after ``latency_ms`` (bounded by ``timeout_s``, like a real upstream)."""
        if operation in PROVIDER_OBJECTS:  # files and batches, kept in memory (see mock_objects)
            return await self._objects.call(deployment, operation, payload, timeout_s)
        behaviour = self._behaviour(deployment)
        step = self._step(deployment, behaviour)
        task = _task(deployment, operation, payload, behaviour) if operation not in _TEXT else None
        answer = None if operation not in _TEXT else self._plan(deployment, operation, payload, behaviour)
        latency = behaviour.latency_ms if step.latency_ms is None else step.latency_ms
        await _wait(latency, timeout_s, deployment)
        if step.cut_after is not None:
            raise _cut(deployment, "before answering")
        if task is not None:
            return task
        if answer is None:
            return _embeddings(deployment, payload, behaviour)
        chat = operation is Operation.CHAT
        usage = _usage(operation, payload, behaviour, answer.completion_tokens)
        body = mock_wire.envelope(
            chat=chat,
            chunk=False,
            model=payload["model"],
            system_fingerprint=_fingerprint(deployment, answer),
        )
        body["choices"] = mock_wire.chat_choices(answer) if chat else mock_wire.completion_choices(answer)
        body["usage"] = msgspec.to_builtins(usage)
        return ProviderReply(body=msgspec.json.encode(body), usage=usage)

    async def stream(
        self,
        deployment: Deployment,
        operation: Operation,
        payload: dict[str, Any],
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[bytes]:
        """Stream the reply in chunks of ``chunk_tokens`` with the configured delays and script.

        Speech streams silent audio, a chunk a word, with the same delays; a file's content is one chunk.
        """
        if operation is Operation.FILE_CONTENT:
            yield self._objects.content(deployment, payload)
            return
        behaviour = self._behaviour(deployment)
        step = self._step(deployment, behaviour)
        if operation is Operation.AUDIO_SPEECH:
            async for chunk in _speech(deployment, payload, behaviour, step, timeout_s):
                yield chunk
            return
        answer = self._plan(deployment, operation, payload, behaviour)
        await _wait(behaviour.ttft_ms if step.latency_ms is None else step.latency_ms, timeout_s, deployment)
        chat = operation is Operation.CHAT
        head = mock_wire.envelope(
            chat=chat, chunk=True, model=payload["model"], system_fingerprint=_fingerprint(deployment, answer)
        )
        pending: list[bytes] = []
        writes = sent = 0
        for choice in mock_wire.chunk_choices(answer, chat=chat, per_chunk=behaviour.chunk_tokens):
            if step.cut_after is not None and sent >= step.cut_after:
                break
            pending.append(data_frame(msgspec.json.encode(head | {"choices": [choice]})))
            sent += 1
            if len(pending) >= behaviour.frames_per_write:
                if writes:
                    await _wait(behaviour.inter_token_ms, timeout_s, deployment)
                yield b"".join(pending)
                pending, writes = [], writes + 1
        if pending:
            if writes:
                await _wait(behaviour.inter_token_ms, timeout_s, deployment)
            yield b"".join(pending)
        if step.cut_after is not None:
            raise _cut(deployment, f"after {sent} chunks")
        options = payload.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            usage = _usage(operation, payload, behaviour, answer.completion_tokens)
            yield data_frame(msgspec.json.encode(head | {"choices": [], "usage": msgspec.to_builtins(usage)}))

    async def aclose(self) -> None:
        """Nothing to release."""

    def _behaviour(self, deployment: Deployment) -> MockBehaviour:
        self.calls += 1
        raw = deployment.params.get("mock")
        return raw if isinstance(raw, MockBehaviour) else MockBehaviour()

    def _step(self, deployment: Deployment, behaviour: MockBehaviour) -> MockStep:
        """This call's script step (raising its failure), or a random failure at ``error_rate``."""
        served = self._served.get(deployment.id, 0)
        self._served[deployment.id] = served + 1
        script = behaviour.script
        if script and (served < len(script) or behaviour.repeat_script):
            step = script[served % len(script)]
            if step.status is not None:
                raise _failure(deployment, step.status, step.message, step.retry_after_s)
            return step
        if behaviour.error_rate > 0:
            rng = self._rngs.get(deployment.id)
            if rng is None:
                rng = self._rngs[deployment.id] = random.Random(behaviour.seed)
            if rng.random() < behaviour.error_rate:
                raise _failure(deployment, behaviour.error_status, None, None)
        return _NORMAL

    @staticmethod
    def _plan(
        deployment: Deployment, operation: Operation, payload: dict[str, Any], behaviour: MockBehaviour
    ) -> MockAnswer:
        try:
            return plan(
                payload,
                chat=operation is Operation.CHAT,
                content=behaviour.content,
                echo=behaviour.echo,
                use_tools=behaviour.tool_calls,
            )
        except MockRequestError as exc:
            raise _bad_request(deployment, str(exc), exc.param) from None


_NORMAL = MockStep()


async def _speech(
    deployment: Deployment,
    payload: dict[str, Any],
    behaviour: MockBehaviour,
    step: MockStep,
    timeout_s: float,
) -> AsyncIterator[bytes]:
    try:
        fmt, words = mock_audio.speech(payload)
    except MockRequestError as exc:
        raise _bad_request(deployment, str(exc), exc.param) from None
    await _wait(behaviour.ttft_ms if step.latency_ms is None else step.latency_ms, timeout_s, deployment)
    for sent, chunk in enumerate(mock_audio.speech_chunks(fmt, words)):
        if step.cut_after is not None and sent >= step.cut_after:
            raise _cut(deployment, f"after {sent} chunks")
        if sent:
            await _wait(behaviour.inter_token_ms, timeout_s, deployment)
        yield chunk


_TEXT = frozenset({Operation.CHAT, Operation.COMPLETIONS})


def _task(
    deployment: Deployment, operation: Operation, payload: dict[str, Any], behaviour: MockBehaviour
) -> ProviderReply | None:
    """The answer to an operation other than text generation (None: embeddings, answered apart)."""
    prompt = behaviour.prompt_tokens
    if prompt is None:
        prompt = max(1, estimate_prompt_tokens(operation, payload))
    try:
        if operation is Operation.MODERATIONS:
            body = msgspec.json.encode(mock_tasks.moderation(payload)[0])
        elif operation in (Operation.IMAGES, Operation.IMAGE_EDITS):
            body = msgspec.json.encode(
                mock_tasks.images(payload, prompt, edit=operation is Operation.IMAGE_EDITS)
            )
        elif operation is Operation.RERANK:
            body = msgspec.json.encode(mock_tasks.rerank(payload))
        elif operation is Operation.AUDIO_TRANSCRIPTION:
            body = mock_audio.transcription(payload)
        elif operation is Operation.AUDIO_SPEECH:  # the gateway streams speech; a direct call gets it whole
            body = b"".join(mock_audio.speech_chunks(*mock_audio.speech(payload)))
        else:
            return None
    except MockRequestError as exc:
        raise _bad_request(deployment, str(exc), exc.param) from None
    usage = Usage(prompt_tokens=prompt, completion_tokens=0, total_tokens=prompt)
    return ProviderReply(body=body, usage=usage)


def _failure(
    deployment: Deployment, status: int, message: str | None, retry_after_s: float | None
) -> UpstreamError:
    return UpstreamError(
        message or f"mock deployment {deployment.id!r} injected a {status} failure",
        status_code=status,
        retryable=status == 429 or status >= 500,
        retry_after_s=retry_after_s,
        deployment_id=deployment.id,
    )


def _cut(deployment: Deployment, when: str) -> UpstreamError:
    return UpstreamError(
        f"mock deployment {deployment.id!r} cut the stream {when} (scripted)",
        status_code=502,
        retryable=True,
        deployment_id=deployment.id,
    )


def _bad_request(deployment: Deployment, message: str, param: str) -> UpstreamError:
    return UpstreamError(
        message, status_code=400, deployment_id=deployment.id, param=param, code="invalid_value"
    )


async def _wait(ms: float, timeout_s: float, deployment: Deployment) -> None:
    if ms <= 0:
        return
    if ms / 1000 > timeout_s:
        await anyio.sleep(timeout_s)
        raise UpstreamTimeoutError(
            f"mock deployment {deployment.id!r} timed out after {timeout_s:g}s", deployment_id=deployment.id
        )
    await anyio.sleep(ms / 1000)


def _fingerprint(deployment: Deployment, answer: MockAnswer) -> str:
    return mock_wire.fingerprint(deployment.id, answer.options.seed)


def _usage(operation: Operation, payload: dict[str, Any], behaviour: MockBehaviour, generated: int) -> Usage:
    prompt = behaviour.prompt_tokens
    if prompt is None:
        prompt = max(1, estimate_prompt_tokens(operation, payload))
    completion = behaviour.completion_tokens if behaviour.completion_tokens is not None else generated
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


def _embeddings(deployment: Deployment, payload: dict[str, Any], behaviour: MockBehaviour) -> ProviderReply:
    raw = payload.get("input")
    inputs = raw if isinstance(raw, list) else [raw]
    dimensions = payload.get("dimensions")
    dimensions = behaviour.embedding_dim if dimensions is None else dimensions
    fmt = payload.get("encoding_format") or "float"
    if (
        not isinstance(dimensions, int)
        or isinstance(dimensions, bool)
        or not 1 <= dimensions <= MAX_EMBEDDING_DIM
    ):
        raise _bad_request(
            deployment, f"dimensions must be an integer between 1 and {MAX_EMBEDDING_DIM}", "dimensions"
        )
    if fmt not in ("float", "base64"):
        raise _bad_request(deployment, "encoding_format must be float or base64", "encoding_format")
    if not inputs or len(inputs) > MAX_EMBEDDING_INPUTS:
        raise _bad_request(deployment, f"input must hold 1 to {MAX_EMBEDDING_INPUTS} items", "input")
    if len(inputs) * dimensions > MAX_EMBEDDING_FLOATS:
        raise _bad_request(
            deployment,
            f"inputs times dimensions must stay under {MAX_EMBEDDING_FLOATS:,} for the mock",
            "input",
        )
    data = mock_wire.embedding_data(deployment.id, inputs, dimensions, b64=fmt == "base64")
    prompt = behaviour.prompt_tokens or max(1, estimate_prompt_tokens(Operation.EMBEDDINGS, payload))
    usage = Usage(prompt_tokens=prompt, completion_tokens=0, total_tokens=prompt)
    body = {
        "object": "list",
        "data": data,
        "model": payload["model"],
        "usage": {"prompt_tokens": prompt, "total_tokens": prompt},
    }
    return ProviderReply(body=msgspec.json.encode(body), usage=usage)
