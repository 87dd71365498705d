"""A local OpenAI files and batches API for tests: aiohttp.web on 127.0.0.1, in a background thread.

Files are kept in memory; a batch is ``validating`` when created and ``completed`` at its first
read, with an output file of one line per input line. Unknown ids answer OpenAI's 404.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
import time
from types import TracebackType
from typing import Any

import msgspec
from aiohttp import web


class FakeObjectsUpstream:
    """An OpenAI files/batches server. Use as a context manager.

    Attributes:
        requests: Every request: ``{"method", "path", "authorization", "content_type", "form", "json"}``
            (``form``: text fields, and each file as ``{"filename", "size"}``).
        files: Stored files by id: ``(info, data)``.
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.files: dict[str, tuple[dict[str, Any], bytes]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        assert self._sock is not None, "FakeObjectsUpstream is not started"
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"

    def __enter__(self) -> FakeObjectsUpstream:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._loop = asyncio.new_event_loop()
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/v1/files", self._upload)
        app.router.add_get("/v1/files/{id}", self._file)
        app.router.add_delete("/v1/files/{id}", self._file)
        app.router.add_get("/v1/files/{id}/content", self._content)
        app.router.add_post("/v1/batches", self._create_batch)
        app.router.add_get("/v1/batches/{id}", self._batch)
        app.router.add_post("/v1/batches/{id}/cancel", self._batch)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.SockSite(self._runner, self._sock).start())
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-objects", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        loop, runner, thread = self._loop, self._runner, self._thread
        assert loop is not None
        assert runner is not None
        assert thread is not None
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        if self._sock is not None:
            self._sock.close()

    def _record(self, request: web.Request, **found: Any) -> None:
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "authorization": request.headers.get("Authorization"),
                "content_type": request.content_type,
                **found,
            }
        )

    def _store(self, filename: str, purpose: str, data: bytes) -> dict[str, Any]:
        info = {
            "id": f"file-up{next(self._ids)}",
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        self.files[info["id"]] = (info, data)
        return info

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        fields: dict[str, Any] = {}
        upload = None
        for key, value in form.items():
            if isinstance(value, web.FileField):
                upload = (value.filename, value.file.read())
                fields[key] = {"filename": value.filename, "size": len(upload[1])}
            else:
                fields[key] = str(value)
        self._record(request, form=fields)
        if upload is None:
            return _error(400, "Missing file.")
        return web.json_response(self._store(upload[0], str(fields.get("purpose")), upload[1]))

    async def _file(self, request: web.Request) -> web.Response:
        self._record(request)
        file_id = request.match_info["id"]
        if file_id not in self.files:
            return _error(404, f"No such File object: {file_id}")
        if request.method == "DELETE":
            del self.files[file_id]
            return web.json_response({"id": file_id, "object": "file", "deleted": True})
        return web.json_response(self.files[file_id][0])

    async def _content(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        found = self.files.get(request.match_info["id"])
        if found is None:
            return _error(404, "No such File object.")
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await response.prepare(request)
        data = found[1]
        for start in range(0, len(data), 7):  # several chunks
            await response.write(data[start : start + 7])
        await response.write_eof()
        return response

    async def _create_batch(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._record(request, json=body)
        if body.get("input_file_id") not in self.files:
            return _error(404, "No such File object.")
        batch = {
            "id": f"batch_up{next(self._ids)}",
            "object": "batch",
            "endpoint": body["endpoint"],
            "input_file_id": body["input_file_id"],
            "completion_window": body["completion_window"],
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": int(time.time()),
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": body.get("metadata"),
        }
        self.batches[batch["id"]] = batch
        return web.json_response(batch)

    async def _batch(self, request: web.Request) -> web.Response:
        self._record(request)
        batch = self.batches.get(request.match_info["id"])
        if batch is None:
            return _error(404, "No such Batch object.")
        if request.path.endswith("/cancel"):
            batch["status"] = "cancelling"
        elif batch["status"] == "validating":
            lines = self.files[batch["input_file_id"]][1].splitlines()
            out = b"".join(
                msgspec.json.encode({"custom_id": f"line-{n}", "response": {"status_code": 200}}) + b"\n"
                for n, _ in enumerate(lines)
            )
            batch["output_file_id"] = self._store("output.jsonl", "batch_output", out)["id"]
            batch["status"] = "completed"
            batch["request_counts"] = {"total": len(lines), "completed": len(lines), "failed": 0}
        return web.json_response(batch)


def _error(status: int, message: str) -> web.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}
    return web.json_response(body, status=status)
