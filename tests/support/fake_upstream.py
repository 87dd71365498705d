"""A local OpenAI-compatible upstream for tests: aiohttp.web on 127.0.0.1, in a background thread.

The request's ``model`` picks the behaviour: any ordinary name answers normally; ``error-<status>``,
``context-overflow``, ``slow``, ``flaky``, ``cut-stream``, ``gated-stream``, ``hang-stream``,
``redirect`` (302 to elsewhere), ``garbled-stream`` (a malformed event after the first),
``garbled-first`` (a malformed first event) and ``bad-bytes-stream`` (invalid UTF-8 in an event)
misbehave on purpose (see :class:`FakeUpstream`).
"""

from __future__ import annotations

import asyncio
import base64
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from types import MappingProxyType, TracebackType
from typing import Any

import msgspec
from aiohttp import web

from tests.support.fake_upstream_tasks import SPEECH_CHUNKS, TASK_PATHS, TRANSCRIPT, task_answer

TEXT_PIECES = ("Hello", " from", " upstream")
TEXT = "".join(TEXT_PIECES)
USAGE = MappingProxyType({"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8})
ERRORS = MappingProxyType(
    {
        400: ("Invalid value for 'temperature': must be at most 2.", "invalid_request_error", None),
        401: ("Incorrect API key provided: sk-test.", "invalid_request_error", "invalid_api_key"),
        404: (
            "The model does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        ),
        429: ("Rate limit reached for requests.", "requests", "rate_limit_exceeded"),
        500: ("The server had an error while processing your request.", "server_error", None),
        503: ("The engine is currently overloaded, please try again later.", "server_error", None),
    }
)
CONTEXT_OVERFLOW = (
    "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. "
    "Please reduce the length of the messages."
)
SLOW_S = 5.0
HOLD_S = 10.0


class FakeUpstream:
    """An OpenAI-compatible server for tests. Use as a context manager.

    Attributes:
        requests: Every request received: ``{"path", "query", "json", "authorization", "api_key",
            "headers"}`` (``api_key``: Azure's key header).
        gate: Set it to let a ``gated-stream`` continue after its first chunk.
        disconnected: Set by ``hang-stream`` when its client went away.
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.gate = threading.Event()
        self.disconnected = threading.Event()
        self._lock = threading.Lock()
        self._flaky_failures = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        assert self._sock is not None, "FakeUpstream is not started"
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"

    @property
    def flaky_failures(self) -> int:
        """How many more ``flaky`` requests fail with 500."""
        with self._lock:
            return self._flaky_failures

    @flaky_failures.setter
    def flaky_failures(self, value: int) -> None:
        with self._lock:
            self._flaky_failures = value

    def calls(self, model: str) -> int:
        """How many requests named ``model``."""
        return sum(1 for r in list(self.requests) if (r["json"] or {}).get("model") == model)

    def start(self) -> FakeUpstream:
        """Listen on a free port; returns once the server accepts connections."""
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self._loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completion)
        app.router.add_post("/v1/completions", self._completion)
        app.router.add_post("/openai/deployments/{deployment}/chat/completions", self._completion)  # Azure
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_get("/v1/models", self._models)
        for path in TASK_PATHS:
            app.router.add_post(path, self._task)
        app.router.add_post("/v1/audio/speech", self._speech)
        app.router.add_post("/v1/audio/transcriptions", self._form)
        app.router.add_post("/v1/images/edits", self._form)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.SockSite(self._runner, self._sock).start())
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-upstream", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (cancelling requests still open) and close the loop."""
        loop, runner, thread = self._loop, self._runner, self._thread
        if loop is None or runner is None or thread is None:
            return
        self.gate.set()
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        if self._sock is not None:
            self._sock.close()
        self._loop = self._runner = self._thread = None

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def _record(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        self.requests.append(
            {
                "path": request.path,
                "query": dict(request.query),
                "json": body,
                "authorization": request.headers.get("Authorization"),
                "api_key": request.headers.get("api-key"),
                "headers": dict(request.headers),
            }
        )
        return body if isinstance(body, dict) else {}

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    async def _completion(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request)
        model = str(body.get("model", ""))
        failure = self._failure(model)
        if failure is not None:
            return failure
        chat = request.path.endswith("/chat/completions")
        if body.get("stream"):
            options = body.get("stream_options")
            with_usage = isinstance(options, dict) and bool(options.get("include_usage"))
            return await self._stream(request, model, chat=chat, with_usage=with_usage)
        if model == "slow":
            await asyncio.sleep(SLOW_S)
        if chat:
            choice: dict[str, Any] = {
                "index": 0,
                "message": {"role": "assistant", "content": TEXT},
                "finish_reason": "stop",
                "logprobs": None,
            }
        else:
            choice = {"index": 0, "text": TEXT, "finish_reason": "stop", "logprobs": None}
        return web.json_response(
            _envelope(model, chat, chunk=False) | {"choices": [choice], "usage": dict(USAGE)}
        )

    async def _embeddings(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        model = str(body.get("model", ""))
        failure = self._failure(model)
        if failure is not None:
            return failure
        raw = body.get("input")
        inputs = raw if isinstance(raw, list) else [raw]
        data = []
        for i, _ in enumerate(inputs):
            vector = [0.1 * (i + 1), 0.2, 0.3, 0.4]
            embedding: Any = vector
            if body.get("encoding_format") == "base64":
                embedding = base64.b64encode(struct.pack("<4f", *vector)).decode()
            data.append({"object": "embedding", "index": i, "embedding": embedding})
        usage = {"prompt_tokens": 5, "total_tokens": 5}
        return web.json_response({"object": "list", "data": data, "model": model, "usage": usage})

    async def _task(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        failure = self._failure(str(body.get("model", "")))
        return failure or web.json_response(task_answer(request.path, body))

    async def _speech(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request)
        failure = self._failure(str(body.get("model", "")))
        if failure is not None:
            return failure
        response = web.StreamResponse(headers={"Content-Type": "audio/mpeg"})
        await response.prepare(request)
        for chunk in SPEECH_CHUNKS:
            await response.write(chunk)
        await response.write_eof()
        return response

    async def _form(self, request: web.Request) -> web.Response:
        """Transcriptions and image edits: a form, each file recorded as its name and size."""
        form = await request.post()
        fields: dict[str, Any] = {}
        for key, value in form.items():
            item = (
                value
                if isinstance(value, str)
                else {"filename": value.filename, "size": len(value.file.read())}
            )
            fields[key] = [*fields[key], item] if key.endswith("[]") and key in fields else item
            if key.endswith("[]") and not isinstance(fields[key], list):
                fields[key] = [item]
        record = {"path": request.path, "query": {}, "json": fields, "api_key": None}
        self.requests.append(record | {"authorization": request.headers.get("Authorization"), "headers": {}})
        if request.path.endswith("/images/edits"):
            return web.json_response(task_answer("/images/generations", {"n": int(fields.get("n", 1))}))
        if fields.get("response_format") == "text":
            return web.Response(text=TRANSCRIPT, content_type="text/plain")
        usage = {"type": "tokens", "input_tokens": 4, "output_tokens": 2, "total_tokens": 6}
        return web.json_response({"text": TRANSCRIPT, "usage": usage})

    def _failure(self, model: str) -> web.Response | None:
        status: int | None = None
        if model == "redirect":
            return web.Response(status=302, headers={"Location": "http://127.0.0.1:9/elsewhere"})
        if model.startswith("error-") and model[6:].isdigit():
            status = int(model[6:])
        elif model == "flaky":
            with self._lock:
                if self._flaky_failures > 0:
                    self._flaky_failures -= 1
                    status = 500
        elif model == "context-overflow":
            error = {
                "message": CONTEXT_OVERFLOW,
                "type": "invalid_request_error",
                "code": "context_length_exceeded",
                "param": "messages",
            }
            return web.json_response({"error": error}, status=400)
        if status is None:
            return None
        message, kind, code = ERRORS.get(status, (f"Fake upstream error {status}.", "server_error", None))
        headers = {"Retry-After": "1"} if status == 429 else None
        error = {"message": message, "type": kind, "code": code, "param": None}
        return web.json_response({"error": error}, status=status, headers=headers)

    async def _stream(
        self, request: web.Request, model: str, *, chat: bool, with_usage: bool
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        if model == "slow":
            await asyncio.sleep(SLOW_S)
        frames = _chunks(model, chat, with_usage)
        if model == "garbled-first":
            await response.write(b"data: {not json\n\n")
            await response.write_eof()
            return response
        await response.write(next(frames))
        if model in ("garbled-stream", "bad-bytes-stream"):
            await response.write(
                b"data: {not json\n\n" if model == "garbled-stream" else b'data: {"a": "\xff"}\n\n'
            )
            await response.write_eof()
            return response
        if model == "cut-stream":
            await response.write(next(frames))
            assert request.transport is not None
            request.transport.close()  # mid-body: the client sees an incomplete chunked payload
            return response
        if model == "gated-stream":
            await _poll(self.gate.is_set, HOLD_S)
        if model == "hang-stream":
            await self._hang(response)
            return response
        for frame in frames:
            await response.write(frame)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _hang(self, response: web.StreamResponse) -> None:
        try:
            deadline = time.monotonic() + HOLD_S
            while time.monotonic() < deadline:
                await asyncio.sleep(0.05)
                await response.write(b": keep-alive\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            self.disconnected.set()
            raise


def _envelope(model: str, chat: bool, *, chunk: bool) -> dict[str, Any]:
    if chat:
        kind = "chat.completion.chunk" if chunk else "chat.completion"
        return {"id": "chatcmpl-fake", "object": kind, "created": 1_700_000_000, "model": model}
    return {"id": "cmpl-fake", "object": "text_completion", "created": 1_700_000_000, "model": model}


def _chunks(model: str, chat: bool, with_usage: bool) -> Iterator[bytes]:
    """The stream's frames, ``[DONE]`` excluded."""
    head = _envelope(model, chat, chunk=True)
    for i, piece in enumerate(TEXT_PIECES):
        if chat:
            delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
            choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": None, "logprobs": None}
        else:
            choice = {"index": 0, "text": piece, "finish_reason": None, "logprobs": None}
        yield _frame(head | {"choices": [choice]})
    last: dict[str, Any] = {"index": 0, "finish_reason": "stop", "logprobs": None}
    last |= {"delta": {}} if chat else {"text": ""}
    yield _frame(head | {"choices": [last]})
    if with_usage:
        yield _frame(head | {"choices": [], "usage": dict(USAGE)})


def _frame(payload: dict[str, Any]) -> bytes:
    return b"data: " + msgspec.json.encode(payload) + b"\n\n"


async def _poll(condition: Callable[[], bool], limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while not condition() and time.monotonic() < deadline:  # noqa: ASYNC110 - a threading.Event, set by the test
        await asyncio.sleep(0.01)
