"""Files and batches: who sees an object, where its calls go, and what the use case records."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest

from routeiq_adapters.provider_objects import InMemoryObjectOwnershipStore
from routeiq_adapters.providers.mock import MockProvider
from routeiq_app.provider_objects_setup import deployment_operations
from routeiq_app.settings.deployments import ModelInfo
from routeiq_core.access import Principal
from routeiq_core.cache.policy import cacheable
from routeiq_core.calls import CallAnswer, CallCommand, CallRequest
from routeiq_core.calls.command import Credentials
from routeiq_core.catalog import ModelCatalog, ModelGroup
from routeiq_core.context import CallContext, RouteDecision
from routeiq_core.errors import InvalidRequestError, NotFoundError, UpstreamError
from routeiq_core.gateway.attempts import deployment_fault, eligible
from routeiq_core.operations import PROVIDER_OBJECTS
from routeiq_core.provider_objects import (
    MAX_SNAPSHOT_BYTES,
    ObjectCaller,
    OwnedObject,
    ProviderObjects,
    may_access,
)
from routeiq_core.providers import Operation, UploadedFile
from tests.support.gateways import make
from tests.support.providers import deployment

pytestmark = pytest.mark.anyio
ALICE = Principal(kind="virtual_key", role="member", key_id="key-a", team="t1")
BOB = Principal(kind="virtual_key", role="member", key_id="key-b")
PRINCIPALS = {"a": ALICE, "b": BOB, "admin": Principal.admin()}
CHAT = frozenset({Operation.CHAT, Operation.COMPLETIONS})


def record(owner: str | None = "key-a", object_id: str = "file-1", kind: Any = "file") -> OwnedObject:
    return OwnedObject(
        kind=kind,
        id=object_id,
        owner=owner,
        team=None,
        deployment_id="files-1",
        model="files",
        created_at=1.0,
        purpose="batch",
        status="processed",
        body=b"{}",
    )


def test_an_object_is_its_owners_and_the_admins() -> None:
    assert may_access(ALICE, record())
    assert not may_access(BOB, record())
    assert may_access(Principal.admin(), record())
    assert may_access(Principal.anonymous(), record())  # an open gateway's caller is an admin
    assert not may_access(ALICE, record(owner=None))  # the master key's object: a key never matches it
    assert may_access(Principal.anonymous(role="member"), record(owner=None))


async def test_a_pinned_call_goes_to_its_deployment_and_nowhere_else() -> None:
    group = ModelGroup(name="files", deployments=(deployment("files", 0), deployment("files", 1)))
    gateway, client, *_ = make([group])
    ctx = CallContext(operation=Operation.FILE_RETRIEVE, model="files", payload={"model": "files"})
    ctx.pinned_deployment = "files-1"
    assert [eligible(d, ctx) for d in group.deployments] == [False, True]
    answer = await gateway.complete(ctx)
    assert (answer.route.deployment_id, client.calls) == ("files-1", ["files-1"])


async def test_a_pinned_404_is_the_objects_not_a_deployment_fault() -> None:
    missing = UpstreamError("No such File object", status_code=404)
    d = deployment("files", 0)
    assert deployment_fault(d, missing)
    assert not deployment_fault(d, missing, "files-0")
    group = ModelGroup(name="files", deployments=(d, deployment("files", 1)))
    gateway, client, *_ = make([group], {"files-0": [missing]})
    ctx = CallContext(operation=Operation.FILE_RETRIEVE, model="files", payload={"model": "files"})
    ctx.pinned_deployment = "files-0"
    with pytest.raises(UpstreamError) as caught:
        await gateway.complete(ctx)
    assert caught.value.status_code == 404
    assert client.calls == ["files-0"]  # no retry, no failover


def test_supports_files_adds_or_removes_files_and_batches() -> None:
    problems: list[str] = []
    assert deployment_operations(ModelInfo(), None, "mock", "m", problems) is None
    assert deployment_operations(ModelInfo(mode="chat"), CHAT, "mock", "m", problems) == CHAT
    added = deployment_operations(ModelInfo(mode="chat", supports_files=True), CHAT, "openai", "m", problems)
    assert added == CHAT | PROVIDER_OBJECTS
    refused = deployment_operations(ModelInfo(supports_files=False), None, "mock", "m", problems)
    assert refused is not None
    assert Operation.CHAT in refused
    assert not refused & PROVIDER_OBJECTS
    assert problems == []
    deployment_operations(
        ModelInfo(supports_files=True), None, "litellm", "model_list[0].model_info", problems
    )
    assert problems == [
        "model_list[0].model_info.supports_files: the 'litellm' adapter cannot pass files and batches; "
        "use an openai/ or mock/ deployment"
    ]


class Access:
    """Identifies the test's callers by token."""

    async def identify(self, credentials: Credentials) -> Principal:
        return PRINCIPALS[credentials.token or ""]


class Calls:
    """The request use case, reduced to what these tests watch: the commands, scripted answers."""

    def __init__(self, *answers: bytes) -> None:
        self.answers = list(answers)
        self.commands: list[CallCommand] = []

    @asynccontextmanager
    async def call(self, command: CallCommand) -> AsyncIterator[CallAnswer]:
        self.commands.append(command)
        request = command.request if isinstance(command.request, CallRequest) else command.request()
        principal = PRINCIPALS[command.credentials.token or ""]
        route = RouteDecision(
            model_group="files", deployment_id=command.deployment or "files-1", strategy="s", attempts=1
        )
        model = request.payload.get("model", "")
        ctx = CallContext(principal=principal, payload=request.payload, model=model, route=route)
        yield CallAnswer(context=ctx, body=self.answers.pop(0))


def service(calls: Calls, *groups: ModelGroup) -> tuple[ProviderObjects, InMemoryObjectOwnershipStore]:
    store = InMemoryObjectOwnershipStore()
    objects = ProviderObjects(
        calls=calls,  # type: ignore[arg-type]
        access=Access(),  # type: ignore[arg-type]
        store=store,
        catalog=ModelCatalog(groups or (ModelGroup(name="files", deployments=(deployment("files", 1),)),)),
        clock=iter(range(100, 10_000)).__next__,
    )
    return objects, store


def caller(token: str) -> ObjectCaller:
    return ObjectCaller(credentials=Credentials(token=token))


def upload_request(**payload: Any) -> CallRequest:
    file = UploadedFile(filename="in.jsonl", media_type="application/jsonl", data=b"{}")
    return CallRequest(payload={"file": file, "purpose": "batch", **payload})


async def test_an_upload_without_a_model_goes_to_the_one_group_serving_files() -> None:
    files = ModelGroup(name="files", deployments=(deployment("files", 1),))
    chat = ModelGroup(name="chat", deployments=(deployment("chat", 0, operations=CHAT),))
    calls = Calls(b'{"id":"file-9","object":"file","purpose":"batch","status":"processed"}')
    objects, store = service(calls, files, chat)
    await objects.upload(caller("a"), upload_request)
    assert calls.commands[0].request is not upload_request
    assert calls.commands[0].deployment is None  # routed, not pinned
    stored = await store.get("file", "file-9")
    assert stored is not None
    assert (stored.owner, stored.team, stored.deployment_id, stored.model) == (
        "key-a",
        "t1",
        "files-1",
        "files",
    )
    assert (stored.purpose, stored.status, stored.created_at) == ("batch", "processed", 100)


def test_an_upload_must_name_its_model_when_several_groups_serve_files() -> None:
    groups = [ModelGroup(name=n, deployments=(deployment(n, 0),)) for n in ("one", "two")]
    objects, _ = service(Calls(), *groups)
    with pytest.raises(InvalidRequestError) as caught:
        objects.default_files_model()
    assert caught.value.code == "model_required"
    assert "Models that serve files: one, two." in caught.value.message
    chat_only, _ = service(Calls(), ModelGroup(name="c", deployments=(deployment("c", 0, operations=CHAT),)))
    with pytest.raises(InvalidRequestError, match="Models that serve files: none"):
        chat_only.default_files_model()


async def test_another_keys_object_is_a_404_exactly_like_a_missing_one() -> None:
    objects, store = service(Calls())
    await store.put(record())
    with pytest.raises(NotFoundError) as theirs:
        await objects.retrieve(caller("b"), "file", "file-1")
    with pytest.raises(NotFoundError) as missing:
        await objects.retrieve(caller("b"), "file", "file-2")
    assert (
        (theirs.value.code, theirs.value.status_code) == (missing.value.code, 404) == ("file_not_found", 404)
    )
    assert theirs.value.message == missing.value.message.replace("file-2", "file-1")
    with pytest.raises(NotFoundError):
        await objects.retrieve(caller("a"), "file", "x" * 129)  # never asked of the store


async def test_a_batch_runs_where_its_input_file_lives_and_its_outputs_become_the_owners() -> None:
    created = b'{"id":"batch_1","object":"batch","endpoint":"/v1/chat/completions","status":"validating"}'
    done = b'{"id":"batch_1","object":"batch","status":"completed","output_file_id":"file-out"}'
    calls = Calls(created, done)
    objects, store = service(calls)
    await store.put(record())
    body = {"input_file_id": "file-1", "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    await objects.create_batch(caller("a"), lambda: CallRequest(payload=dict(body)))
    first = calls.commands[0]
    assert (first.operation, first.deployment) == (Operation.BATCH_CREATE, "files-1")
    assert isinstance(first.request, CallRequest)
    assert first.request.payload == {**body, "model": "files"}
    await objects.retrieve(caller("a"), "batch", "batch_1")
    second = calls.commands[1]
    assert (second.operation, second.deployment) == (Operation.BATCH_RETRIEVE, "files-1")
    assert isinstance(second.request, CallRequest)
    assert second.request.payload == {"model": "files", "batch_id": "batch_1"}
    batch = await store.get("batch", "batch_1")
    assert batch is not None
    assert (batch.owner, batch.status, batch.purpose) == ("key-a", "completed", "/v1/chat/completions")
    output = await store.get("file", "file-out")
    assert output is not None
    assert (output.owner, output.deployment_id, output.purpose) == ("key-a", "files-1", "batch_output")


async def test_an_object_whose_deployment_left_the_config_is_a_clear_404() -> None:
    calls = Calls()
    objects, store = service(calls, ModelGroup(name="files", deployments=(deployment("files", 2),)))
    await store.put(record())
    with pytest.raises(NotFoundError) as caught:
        await objects.retrieve(caller("a"), "file", "file-1")
    assert caught.value.code == "deployment_not_configured"
    assert "'files-1', which is no longer configured" in caught.value.message
    assert calls.commands == []


async def test_a_batch_over_another_keys_file_is_refused_before_any_call() -> None:
    calls = Calls()
    objects, store = service(calls)
    await store.put(record(owner="key-b"))
    body = {"input_file_id": "file-1", "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    with pytest.raises(NotFoundError) as caught:
        await objects.create_batch(caller("a"), lambda: CallRequest(payload=body))
    assert caught.value.param == "input_file_id"
    assert calls.commands == []


async def test_lists_page_by_the_last_id_and_an_invisible_cursor_ends_the_list() -> None:
    objects, store = service(Calls())
    for n in range(3):
        await store.put(msgspec.structs.replace(record(object_id=f"file-{n}"), created_at=float(n)))
    await store.put(record(owner="key-b", object_id="file-b"))
    page = await objects.list(caller("a"), "file", limit=2)
    assert ([r.id for r in page.records], page.has_more) == (["file-2", "file-1"], True)
    rest = await objects.list(caller("a"), "file", after="file-1", limit=2)
    assert ([r.id for r in rest.records], rest.has_more) == (["file-0"], False)
    assert (await objects.list(caller("a"), "file", after="file-b")).records == []
    assert len((await objects.list(caller("admin"), "file", limit=10)).records) == 4
    with pytest.raises(InvalidRequestError):
        await objects.list(caller("a"), "file", limit=101)


async def test_a_deleted_file_loses_its_record_and_a_huge_answer_is_kept_as_its_id() -> None:
    huge = b'{"id":"file-1","object":"file","status":"processed","pad":"' + b"x" * MAX_SNAPSHOT_BYTES + b'"}'
    calls = Calls(huge, b'{"id":"file-1","object":"file","deleted":true}')
    objects, store = service(calls)
    await store.put(record())
    await objects.retrieve(caller("a"), "file", "file-1")
    kept = await store.get("file", "file-1")
    assert kept is not None
    assert msgspec.json.decode(kept.body) == {"id": "file-1", "object": "file"}
    await objects.delete_file(caller("a"), "file-1")
    assert await store.get("file", "file-1") is None


async def test_an_answer_without_an_id_is_a_502_and_nothing_is_recorded() -> None:
    objects, store = service(
        Calls(b'{"object":"file"}'), ModelGroup(name="f", deployments=(deployment("f", 1),))
    )
    with pytest.raises(UpstreamError) as caught:
        await objects.upload(caller("a"), upload_request)
    assert caught.value.status_code == 502
    assert await store.list("file", owner="key-a") == []


async def test_the_mock_keeps_files_per_deployment_and_runs_a_batch_at_its_first_read() -> None:
    mock, d, other = MockProvider(), deployment("m", 0), deployment("m", 1)
    upload = UploadedFile(filename="in.jsonl", media_type="application/jsonl", data=b"")
    line = (
        b'{"custom_id":"c1","method":"POST","url":"/v1/chat/completions","body":{"messages":[]}}\nnot json\n'
    )
    payload = {"model": "m", "purpose": "batch", "file": msgspec.structs.replace(upload, data=line)}
    file = msgspec.json.decode((await mock.send(d, Operation.FILE_UPLOAD, payload, timeout_s=5)).body)
    with pytest.raises(UpstreamError) as caught:
        await mock.send(other, Operation.FILE_RETRIEVE, {"file_id": file["id"]}, timeout_s=5)
    assert caught.value.status_code == 404  # files live with the deployment that took them
    create = {"input_file_id": file["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    batch = msgspec.json.decode((await mock.send(d, Operation.BATCH_CREATE, create, timeout_s=5)).body)
    assert batch["status"] == "in_progress"
    read = await mock.send(d, Operation.BATCH_RETRIEVE, {"batch_id": batch["id"]}, timeout_s=5)
    done = msgspec.json.decode(read.body)
    assert (done["status"], done["request_counts"]) == (
        "completed",
        {"total": 2, "completed": 1, "failed": 1},
    )
    errors = [
        c
        async for c in mock.stream(d, Operation.FILE_CONTENT, {"file_id": done["error_file_id"]}, timeout_s=5)
    ]
    assert msgspec.json.decode(b"".join(errors).splitlines()[0])["error"]["code"] == "invalid_json"
    with pytest.raises(UpstreamError, match="The mock batches /v1/chat/completions"):
        await mock.send(d, Operation.BATCH_CREATE, {**create, "endpoint": "/v1/images"}, timeout_s=5)


def test_files_and_batches_are_never_cached() -> None:
    assert cacheable({"temperature": 0}, operation=Operation.CHAT)
    for operation in PROVIDER_OBJECTS:
        assert not cacheable({"temperature": 0}, operation=operation)
