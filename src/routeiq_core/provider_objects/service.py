"""The files and batches use case: pass calls through to the deployment holding each object.

Every upstream call goes through :class:`~routeiq_core.calls.CallService` — authentication, RBAC
(``llm.call``), policy, rate limits, plugins, routing with retries, request log, metrics — as one of
the :data:`~routeiq_core.operations.PROVIDER_OBJECTS` operations. What is added here:

- an upload is routed by its model name (or to the one model group whose deployments serve files),
  and the file's record names the deployment that took it;
- every later call about an object (read, content, delete, a batch over a file, cancel) is pinned to
  that deployment, after the caller was identified and found to own the object — another key's id is
  a 404 exactly like a missing one;
- the output and error files a batch produces are recorded as its owner's.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import MappingProxyType
from typing import Any

import msgspec

from routeiq_core.access.principal import Principal
from routeiq_core.access.rbac import require
from routeiq_core.calls import CallAccess, CallAnswer, CallCommand, CallRequest, CallResult, CallService
from routeiq_core.calls.command import Credentials, Decode
from routeiq_core.catalog import ModelCatalog
from routeiq_core.errors import InvalidRequestError, NotFoundError
from routeiq_core.operations import Operation
from routeiq_core.provider_objects.answers import (
    AnsweredObject,
    created_record,
    output_record,
    read_answer,
    snapshot,
)
from routeiq_core.provider_objects.records import (
    MAX_OBJECT_ID_CHARS,
    MAX_PAGE,
    ObjectKind,
    ObjectOwnershipStore,
    OwnedObject,
    may_access,
    owner_of,
    sees_everything,
)
from routeiq_core.surfaces import LIBRARY_SURFACE
from routeiq_core.tracing import NOOP_SPAN, Span

_ID_FIELD = MappingProxyType({"file": "file_id", "batch": "batch_id"})


class ObjectCaller(msgspec.Struct, frozen=True, kw_only=True):
    """Who calls, as the surface read it, and the request's id and span (see :class:`CallCommand`)."""

    credentials: Credentials
    request_id: str | None = None
    surface: str = LIBRARY_SURFACE
    span: Span = NOOP_SPAN


class ObjectPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of a list: the records, newest first, and whether older ones follow."""

    records: list[OwnedObject]
    has_more: bool


class ProviderObjects:
    """Files and batches passed through to their deployments, each visible to its owner alone.

    Args:
        calls: The request use case every upstream call goes through.
        access: Identifies callers before their objects are looked up.
        store: The ownership records.
        catalog: The model groups (an upload with no model goes to the one serving files).
        clock: Unix time (records' ``created_at``).
    """

    def __init__(
        self,
        *,
        calls: CallService,
        access: CallAccess,
        store: ObjectOwnershipStore,
        catalog: ModelCatalog,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._calls = calls
        self._access = access
        self._store = store
        self._catalog = catalog
        self._clock = clock

    async def upload(self, caller: ObjectCaller, decode: Decode) -> CallAnswer:
        """``POST /v1/files``: upload to the deployment the payload's model routes to, record its owner.

        ``decode`` gives the form as a payload (``file``, ``purpose``, and ``model`` when the client
        named one); with no model, the one model group whose deployments serve files takes it.

        Raises:
            InvalidRequestError: no model named and not exactly one group serves files; or the
                group's deployments cannot serve files (``unsupported_operation``).
            The errors of :meth:`CallService.call`.
        """

        def decode_with_model() -> CallRequest:
            request = decode()
            if not request.payload.get("model"):
                request.payload["model"] = self.default_files_model()
            return request

        command = self._command(caller, Operation.FILE_UPLOAD, decode_with_model)
        async with self._calls.call(command) as result:
            answer = _whole(result)
            ctx = answer.context
            if ctx.route is None:  # a plugin answered: nothing reached a provider, nothing to record
                return answer
            found = read_answer(answer.body, "file upload", ctx.route.deployment_id)
            record = created_record(
                "file",
                answer.body,
                found,
                principal=ctx.principal,
                deployment_id=ctx.route.deployment_id,
                model=ctx.model,
                created_at=self._clock(),
                purpose=found.purpose or str(ctx.payload.get("purpose") or ""),
                status=found.status or "uploaded",
            )
            await self._store.put(record)
            return answer

    def default_files_model(self) -> str:
        """The model name of an upload that names none: the one model group whose deployments serve files."""
        serving = [
            g.name
            for g in self._catalog.groups
            if "*" not in g.name and any(d.serves(Operation.FILE_UPLOAD) for d in g.deployments)
        ]
        if len(serving) == 1:
            return serving[0]
        listed = ", ".join(serving[:10]) + (", ..." if len(serving) > 10 else "") or "none"
        raise InvalidRequestError(
            "Name the model whose deployment should keep the file (`model`, or LiteLLM's "
            f"target_model_names). Models that serve files: {listed}.",
            param="model",
            code="model_required",
        )

    async def retrieve(self, caller: ObjectCaller, kind: ObjectKind, object_id: str) -> CallAnswer:
        """The object as its deployment answers now (its record refreshed); 404 unless the caller's."""
        record = await self.owned(caller, kind, object_id)
        operation = Operation.FILE_RETRIEVE if kind == "file" else Operation.BATCH_RETRIEVE
        return await self._pinned(caller, record, operation, {})

    async def delete_file(self, caller: ObjectCaller, file_id: str) -> CallAnswer:
        """Delete the file at its deployment, then its record; 404 unless the caller's."""
        record = await self.owned(caller, "file", file_id)
        answer = await self._pinned(caller, record, Operation.FILE_DELETE, {})
        await self._store.delete("file", file_id)
        return answer

    async def cancel_batch(self, caller: ObjectCaller, batch_id: str) -> CallAnswer:
        """Cancel the batch at its deployment; 404 unless the caller's."""
        record = await self.owned(caller, "batch", batch_id)
        return await self._pinned(caller, record, Operation.BATCH_CANCEL, {})

    @asynccontextmanager
    async def content(self, caller: ObjectCaller, file_id: str) -> AsyncIterator[CallResult]:
        """The file's bytes as its deployment streams them (write them inside the ``async with``)."""
        record = await self.owned(caller, "file", file_id)
        command = self._command(caller, Operation.FILE_CONTENT, self._payload(record, {}), record)
        async with self._calls.call(command) as result:
            yield result

    async def create_batch(self, caller: ObjectCaller, decode: Decode) -> CallAnswer:
        """Start a batch on the deployment holding its input file (the caller's: a 404 otherwise).

        ``decode`` gives the validated body (``input_file_id``, ``endpoint``, ``completion_window``,
        ``metadata``); it is called once the caller is identified.
        """
        principal = await self._caller(caller)
        payload = decode().payload
        source = await self._owned(
            principal, "file", str(payload.get("input_file_id") or ""), "input_file_id"
        )
        body = CallRequest(payload={**payload, "model": source.model})  # routed to the file's deployment
        command = self._command(caller, Operation.BATCH_CREATE, body, source)
        async with self._calls.call(command) as result:
            answer = _whole(result)
            found = read_answer(answer.body, "batch", source.deployment_id)
            batch = created_record(
                "batch",
                answer.body,
                found,
                principal=answer.context.principal,
                deployment_id=source.deployment_id,
                model=source.model,
                created_at=self._clock(),
                purpose=found.endpoint or str(payload.get("endpoint") or ""),
                status=found.status or "validating",
            )
            await self._store.put(batch)
            await self._record_outputs(batch, found)
            return answer

    async def list(
        self,
        caller: ObjectCaller,
        kind: ObjectKind,
        *,
        after: str | None = None,
        limit: int = 20,
        purpose: str | None = None,
    ) -> ObjectPage:
        """The caller's objects of ``kind`` (an admin's: everybody's), newest first, a page at a time.

        ``after`` is the last id of the previous page; an id the caller cannot see ends the list.
        """
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRequestError(f"limit must be between 1 and {MAX_PAGE}, got {limit}.", param="limit")
        principal = await self._caller(caller)
        before = None
        if after is not None:
            cursor = await self._visible(principal, kind, after)
            if cursor is None:
                return ObjectPage(records=[], has_more=False)
            before = (cursor.created_at, cursor.id)
        found = await self._store.list(
            kind,
            owner=owner_of(principal),
            everyone=sees_everything(principal),
            before=before,
            limit=limit + 1,
            purpose=purpose,
        )
        return ObjectPage(records=found[:limit], has_more=len(found) > limit)

    async def owned(
        self, caller: ObjectCaller, kind: ObjectKind, object_id: str, *, param: str | None = None
    ) -> OwnedObject:
        """The caller's record of ``kind`` with ``object_id``: a 404 when missing or another key's."""
        return await self._owned(await self._caller(caller), kind, object_id, param)

    async def _owned(
        self, principal: Principal, kind: ObjectKind, object_id: str, param: str | None = None
    ) -> OwnedObject:
        record = await self._visible(principal, kind, object_id)
        if record is None:
            raise NotFoundError(
                f"No {kind} with id {object_id[:MAX_OBJECT_ID_CHARS]!r}.",
                param=param,
                code=f"{kind}_not_found",
            )
        return record

    async def _caller(self, caller: ObjectCaller) -> Principal:
        principal = await self._access.identify(caller.credentials)
        require(principal, "llm.call")
        return principal

    async def _visible(self, principal: Principal, kind: ObjectKind, object_id: str) -> OwnedObject | None:
        if not object_id or len(object_id) > MAX_OBJECT_ID_CHARS:
            return None
        record = await self._store.get(kind, object_id)
        return record if record is not None and may_access(principal, record) else None

    async def _pinned(
        self, caller: ObjectCaller, record: OwnedObject, operation: Operation, extra: dict[str, Any]
    ) -> CallAnswer:
        """One call about ``record`` on its deployment; a read or cancelled object's record is refreshed."""
        command = self._command(caller, operation, self._payload(record, extra), record)
        async with self._calls.call(command) as result:
            answer = _whole(result)
            if operation is Operation.FILE_DELETE:
                return answer
            found = read_answer(answer.body, record.kind, record.deployment_id)
            if found.id == record.id:
                kept = snapshot(answer.body, record.id, record.kind)
                await self._store.update(
                    record.kind, record.id, status=found.status or record.status, body=kept
                )
            if record.kind == "batch":
                await self._record_outputs(record, found)
            return answer

    async def _record_outputs(self, batch: OwnedObject, found: AnsweredObject) -> None:
        """A batch's output and error files are its owner's, on its deployment."""
        for file_id in (found.output_file_id, found.error_file_id):
            if (
                file_id
                and len(file_id) <= MAX_OBJECT_ID_CHARS
                and await self._store.get("file", file_id) is None
            ):
                await self._store.put(output_record(batch, file_id, self._clock()))

    @staticmethod
    def _payload(record: OwnedObject, extra: dict[str, Any]) -> CallRequest:
        return CallRequest(payload={**extra, "model": record.model, _ID_FIELD[record.kind]: record.id})

    def _command(
        self,
        caller: ObjectCaller,
        operation: Operation,
        request: CallRequest | Decode,
        record: OwnedObject | None = None,
    ) -> CallCommand:
        if isinstance(request, CallRequest) and operation is Operation.FILE_CONTENT:
            request.stream = True
        if record is not None and self._catalog.deployment(record.deployment_id) is None:
            raise NotFoundError(
                f"The {record.kind} {record.id!r} lives on the deployment {record.deployment_id!r}, which is "
                "no longer configured: it cannot be reached through this gateway.",
                code="deployment_not_configured",
            )
        return CallCommand(
            operation=operation,
            credentials=caller.credentials,
            request=request,
            request_id=caller.request_id,
            surface=caller.surface,
            span=caller.span,
            deployment=record.deployment_id if record is not None else None,
        )


def _whole(result: CallResult) -> CallAnswer:
    """A complete answer (these operations are never streamed)."""
    if not isinstance(result, CallAnswer):
        raise InvalidRequestError("This call cannot be streamed.", param="stream", code="unsupported_stream")
    return result
