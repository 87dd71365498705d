"""The mock's files and batches, kept in this process's memory (one worker; gone at restart).

Files live with the deployment that received them, as with a real provider. A batch is
``in_progress`` when created and runs at its first read: each JSONL line goes through the mock's
own chat, completions or embeddings (latency, scripted and injected failures included), answers go
to an output file and failures to an error file, and the batch is ``completed``. Cancelling before
that read leaves it ``cancelling``, then ``cancelled``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from types import MappingProxyType
from typing import Any

import msgspec

from routeiq_core.catalog import Deployment
from routeiq_core.errors import UpstreamError
from routeiq_core.providers import Operation, ProviderReply, UploadedFile

MAX_FILES = 1_000
MAX_STORED_BYTES = 256 * 1024 * 1024
"""Most file bytes one mock provider keeps (uploads beyond it are refused until files are deleted)."""
MAX_BATCH_LINES = 50_000
ENDPOINTS = MappingProxyType(
    {
        "/v1/chat/completions": Operation.CHAT,
        "/v1/completions": Operation.COMPLETIONS,
        "/v1/embeddings": Operation.EMBEDDINGS,
    }
)
Send = Callable[[Deployment, Operation, dict[str, Any], float], Awaitable[ProviderReply]]
"""The mock's own call (deployment, operation, payload, timeout) that answers each batch line."""
_LINE = msgspec.json.Decoder(dict[str, Any])


class _File(msgspec.Struct, kw_only=True):
    deployment: str
    info: dict[str, Any]
    data: bytes


class MockObjects:
    """Files and batches of mock deployments.

    Args:
        send: Answers one batch line (the mock provider's ``send``).
        clock: Unix time.
    """

    def __init__(self, send: Send, clock: Callable[[], float] = time.time) -> None:
        self._send = send
        self._clock = clock
        self._files: dict[str, _File] = {}
        self._batches: dict[str, tuple[str, dict[str, Any]]] = {}
        self._bytes = 0

    async def call(
        self, deployment: Deployment, operation: Operation, payload: dict[str, Any], timeout_s: float
    ) -> ProviderReply:
        """Answer a files or batches call as OpenAI would."""
        if operation is Operation.FILE_UPLOAD:
            return _reply(self._upload(deployment, payload))
        if operation is Operation.BATCH_CREATE:
            return _reply(self._create_batch(deployment, payload))
        if operation in (Operation.FILE_RETRIEVE, Operation.FILE_DELETE):
            found = self._file(deployment, payload)
            if operation is Operation.FILE_RETRIEVE:
                return _reply(found.info)
            del self._files[found.info["id"]]
            self._bytes -= len(found.data)
            return _reply({"id": found.info["id"], "object": "file", "deleted": True})
        if operation is Operation.FILE_CONTENT:
            return ProviderReply(body=self.content(deployment, payload))
        batch = self._batch(deployment, payload)
        if operation is Operation.BATCH_CANCEL:
            if batch["status"] not in ("validating", "in_progress"):
                raise _error(deployment, 400, f"Cannot cancel a batch with status {batch['status']}.")
            batch.update(status="cancelling", cancelling_at=int(self._clock()))
        else:
            await self._advance(deployment, batch, timeout_s)
        return _reply(batch)

    def content(self, deployment: Deployment, payload: dict[str, Any]) -> bytes:
        """A file's bytes."""
        return self._file(deployment, payload).data

    def _upload(self, deployment: Deployment, payload: dict[str, Any]) -> dict[str, Any]:
        upload, purpose = payload.get("file"), payload.get("purpose")
        if not isinstance(upload, UploadedFile) or not isinstance(purpose, str) or not purpose:
            raise _error(deployment, 400, "A file upload needs a `file` and a `purpose`.", "file")
        if len(self._files) >= MAX_FILES or self._bytes + len(upload.data) > MAX_STORED_BYTES:
            raise _error(deployment, 400, "The mock keeps no more files: delete some first.", "file")
        return self._store(deployment, upload.filename, purpose, upload.data)

    def _store(self, deployment: Deployment, filename: str, purpose: str, data: bytes) -> dict[str, Any]:
        file_id = f"file-{uuid.uuid4().hex[:24]}"
        info = {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": int(self._clock()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        self._files[file_id] = _File(deployment=deployment.id, info=info, data=data)
        self._bytes += len(data)
        return info

    def _file(self, deployment: Deployment, payload: dict[str, Any]) -> _File:
        file_id = str(payload.get("file_id") or payload.get("input_file_id") or "")
        found = self._files.get(file_id)
        if found is None or found.deployment != deployment.id:
            raise _error(deployment, 404, f"No such File object: {file_id[:64]}", "file_id")
        return found

    def _batch(self, deployment: Deployment, payload: dict[str, Any]) -> dict[str, Any]:
        batch_id = str(payload.get("batch_id") or "")
        found = self._batches.get(batch_id)
        if found is None or found[0] != deployment.id:
            raise _error(deployment, 404, f"No such Batch object: {batch_id[:64]}", "batch_id")
        return found[1]

    def _create_batch(self, deployment: Deployment, payload: dict[str, Any]) -> dict[str, Any]:
        source = self._file(deployment, payload)
        endpoint = payload.get("endpoint")
        if endpoint not in ENDPOINTS:
            raise _error(
                deployment, 400, f"The mock batches {', '.join(ENDPOINTS)}, not {endpoint!r}.", "endpoint"
            )
        if source.info["purpose"] != "batch":
            raise _error(
                deployment, 400, "The input file must be uploaded with purpose 'batch'.", "input_file_id"
            )
        now = int(self._clock())
        batch = {
            "id": f"batch_{uuid.uuid4().hex[:24]}",
            "object": "batch",
            "endpoint": endpoint,
            "errors": None,
            "input_file_id": source.info["id"],
            "completion_window": payload.get("completion_window") or "24h",
            "status": "in_progress",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": now,
            "in_progress_at": now,
            "expires_at": now + 24 * 3600,
            "completed_at": None,
            "cancelling_at": None,
            "cancelled_at": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": payload.get("metadata"),
        }
        self._batches[batch["id"]] = (deployment.id, batch)
        return batch

    async def _advance(self, deployment: Deployment, batch: dict[str, Any], timeout_s: float) -> None:
        """A read moves a batch on: a cancelling one is cancelled, one in progress runs and completes."""
        now = int(self._clock())
        if batch["status"] == "cancelling":
            batch.update(status="cancelled", cancelled_at=now)
        elif batch["status"] == "in_progress":
            source = self._files.get(batch["input_file_id"])
            lines = source.data.splitlines() if source is not None else []
            outputs, errors = await self._run(
                deployment, batch["endpoint"], lines[:MAX_BATCH_LINES], timeout_s
            )
            total = len(outputs) + len(errors)
            batch["request_counts"] = {"total": total, "completed": len(outputs), "failed": len(errors)}
            for key, found in (("output_file_id", outputs), ("error_file_id", errors)):
                if found:
                    name = f"{batch['id']}_{key.split('_')[0]}.jsonl"
                    data = b"\n".join(found) + b"\n"
                    batch[key] = self._store(deployment, name, "batch_output", data)["id"]
            batch.update(status="completed", completed_at=now)

    async def _run(
        self, deployment: Deployment, endpoint: str, lines: list[bytes], timeout_s: float
    ) -> tuple[list[bytes], list[bytes]]:
        """Each non-blank line through the mock: the output lines and the error lines."""
        outputs: list[bytes] = []
        errors: list[bytes] = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            request_id = f"batch_req_{uuid.uuid4().hex[:16]}"
            custom_id, result, error = await self._line(deployment, endpoint, line, number, timeout_s)
            entry = {"id": request_id, "custom_id": custom_id, "response": result, "error": error}
            (errors if error is not None else outputs).append(msgspec.json.encode(entry))
        return outputs, errors

    async def _line(
        self, deployment: Deployment, endpoint: str, line: bytes, number: int, timeout_s: float
    ) -> tuple[str | None, dict[str, Any] | None, dict[str, Any] | None]:
        try:
            request = _LINE.decode(line)
        except msgspec.DecodeError:
            return None, None, {"code": "invalid_json", "message": f"Line {number} is not a JSON object."}
        custom_id = request.get("custom_id")
        custom = custom_id if isinstance(custom_id, str) else None
        body = request.get("body")
        if request.get("url") != endpoint or not isinstance(body, dict):
            message = f"Line {number} must have url {endpoint!r} and a JSON object body."
            return custom, None, {"code": "invalid_request", "message": message}
        body = {**body, "model": body.get("model") or deployment.upstream_model}
        try:
            reply = await self._send(deployment, ENDPOINTS[endpoint], body, timeout_s)
        except UpstreamError as exc:
            return custom, None, {"code": exc.code or str(exc.status_code), "message": exc.message}
        answer = {"status_code": 200, "request_id": uuid.uuid4().hex, "body": msgspec.json.decode(reply.body)}
        return custom, answer, None


def _reply(obj: dict[str, Any]) -> ProviderReply:
    return ProviderReply(body=msgspec.json.encode(obj))


def _error(deployment: Deployment, status: int, message: str, param: str | None = None) -> UpstreamError:
    return UpstreamError(
        message,
        status_code=status,
        deployment_id=deployment.id,
        param=param,
        code="invalid_value" if status == 400 else "not_found",
    )
