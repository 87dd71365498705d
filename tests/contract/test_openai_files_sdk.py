"""Files and batches through `routeiq serve`, driven by the official `openai` SDK.

Against the mock (files and batches in its memory, each batch line answered by its chat) and against a
fake OpenAI files/batches upstream (the OpenAI-compatible adapter's passthrough): two virtual keys
see only their own objects, the master key sees all, a chat-only model answers 400, an oversize
upload 413.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.support.fake_objects_upstream import FakeObjectsUpstream
from tests.support.gateway_process import GatewayProcess

pytestmark = pytest.mark.slow
MASTER = "sk-files-master-key-0123456789ab"
MAX_UPLOAD = 4096


def config(upstream: str) -> str:
    return f"""
model_list:
  - model_name: files
    litellm_params: {{model: mock/files}}
    model_info: {{mode: chat, supports_files: true}}
  - model_name: up
    litellm_params: {{model: openai/gpt, api_base: '{upstream}', api_key: sk-upstream}}
  - model_name: chat-only
    litellm_params: {{model: mock/c}}
    model_info: {{mode: chat}}
  - model_name: no-files
    litellm_params: {{model: mock/n}}
    model_info: {{supports_files: false}}
files: {{max_upload_bytes: {MAX_UPLOAD}}}
"""


def batch_input(count: int = 2) -> bytes:
    lines = [
        {
            "custom_id": f"req-{n}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "files", "messages": [{"role": "user", "content": f"question {n}"}]},
        }
        for n in range(count)
    ]
    return "\n".join(json.dumps(line) for line in lines).encode()


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeObjectsUpstream]:
    with FakeObjectsUpstream() as up:
        yield up


@pytest.fixture(scope="module")
def gateway(
    upstream: FakeObjectsUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    keys = str(tmp_path_factory.mktemp("files") / "keys.db")
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": keys}
    with GatewayProcess(config(upstream.base_url), env=env) as gw:
        yield gw
        assert "Traceback" not in gw.log(), gw.log()[-4000:]


def new_key(gateway: GatewayProcess, **limits: Any) -> str:
    r = httpx.post(
        f"{gateway.base_url}/key/generate",
        json=limits,
        headers={"Authorization": f"Bearer {MASTER}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    key: str = r.json()["key"]
    return key


def sdk(gateway: GatewayProcess, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=key, max_retries=0, timeout=10)


@pytest.fixture(scope="module")
def alice(gateway: GatewayProcess) -> openai.OpenAI:
    return sdk(gateway, new_key(gateway))


@pytest.fixture(scope="module")
def bob(gateway: GatewayProcess) -> openai.OpenAI:
    return sdk(gateway, new_key(gateway))


def test_files_and_a_batch_on_the_mock(alice: openai.OpenAI) -> None:
    uploaded = alice.files.create(
        file=("in.jsonl", batch_input(3)), purpose="batch", extra_body={"model": "files"}
    )
    assert (uploaded.object, uploaded.purpose, uploaded.filename) == ("file", "batch", "in.jsonl")
    assert uploaded.bytes == len(batch_input(3))
    assert alice.files.retrieve(uploaded.id).id == uploaded.id
    assert alice.files.content(uploaded.id).content == batch_input(3)
    assert uploaded.id in [f.id for f in alice.files.list()]

    raw = alice.batches.with_raw_response.create(
        input_file_id=uploaded.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"job": "nightly"},
    )
    assert raw.headers["x-routeiq-deployment"] == "files-0"
    created = raw.parse()
    assert (created.status, created.metadata) == ("in_progress", {"job": "nightly"})
    done = alice.batches.retrieve(created.id)
    assert done.status == "completed"
    assert done.request_counts is not None
    assert (done.request_counts.total, done.request_counts.completed) == (3, 3)
    assert done.output_file_id is not None
    lines = [json.loads(line) for line in alice.files.content(done.output_file_id).text.splitlines()]
    assert [line["custom_id"] for line in lines] == ["req-0", "req-1", "req-2"]
    assert lines[0]["response"]["body"]["object"] == "chat.completion"
    listed = alice.batches.list()
    assert [b.id for b in listed.data][:1] == [created.id]
    assert listed.data[0].status == "completed"  # the record was refreshed by the read
    assert done.output_file_id in [f.id for f in alice.files.list(purpose="batch_output")]

    deleted = alice.files.delete(uploaded.id)
    assert (deleted.id, deleted.deleted) == (uploaded.id, True)
    with pytest.raises(openai.NotFoundError):
        alice.files.retrieve(uploaded.id)


def test_cancelling_a_batch(alice: openai.OpenAI) -> None:
    uploaded = alice.files.create(
        file=("c.jsonl", batch_input()), purpose="batch", extra_body={"model": "files"}
    )
    created = alice.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert alice.batches.cancel(created.id).status == "cancelling"
    assert alice.batches.retrieve(created.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        alice.batches.cancel(created.id)  # the mock, like OpenAI: a cancelled batch cannot be cancelled


def test_a_key_sees_only_its_own_objects(
    gateway: GatewayProcess, alice: openai.OpenAI, bob: openai.OpenAI
) -> None:
    mine = alice.files.create(file=("a.jsonl", batch_input()), purpose="batch", extra_body={"model": "files"})
    batch = alice.batches.create(
        input_file_id=mine.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    missing = "file-does-not-exist"
    for action in (
        lambda f: bob.files.retrieve(f),
        lambda f: bob.files.content(f),
        lambda f: bob.files.delete(f),
        lambda f: bob.batches.create(
            input_file_id=f, endpoint="/v1/chat/completions", completion_window="24h"
        ),
    ):
        with pytest.raises(openai.NotFoundError) as theirs:
            action(mine.id)
        with pytest.raises(openai.NotFoundError) as nothing:
            action(missing)
        assert theirs.value.code == nothing.value.code  # another key's id answers like a missing one
        assert theirs.value.message.replace(mine.id, missing) == nothing.value.message
    for action in (lambda b: bob.batches.retrieve(b), lambda b: bob.batches.cancel(b)):
        with pytest.raises(openai.NotFoundError):
            action(batch.id)
    assert mine.id not in [f.id for f in bob.files.list()]
    assert batch.id not in [b.id for b in bob.batches.list()]
    assert alice.files.retrieve(mine.id).id == mine.id  # untouched by bob's delete
    admin = sdk(gateway, MASTER)
    assert mine.id in [f.id for f in admin.files.list(limit=100)]
    assert admin.batches.retrieve(batch.id).id == batch.id


def test_lists_are_paginated_newest_first(gateway: GatewayProcess) -> None:
    client = sdk(gateway, new_key(gateway))
    ids = [
        client.files.create(
            file=(f"{n}.jsonl", batch_input(1)), purpose="batch", extra_body={"model": "files"}
        ).id
        for n in range(3)
    ]
    first = client.files.list(limit=2)
    assert [f.id for f in first.data] == ids[::-1][:2]
    assert first.has_more
    second = client.files.list(limit=2, after=first.data[-1].id)
    assert [f.id for f in second.data] == [ids[0]]
    assert not second.has_more
    assert [f.id for f in client.files.list()] == ids[::-1]  # the SDK's auto-pagination
    with pytest.raises(openai.BadRequestError):
        client.files.list(limit=0)


def test_passthrough_to_an_openai_compatible_upstream(
    alice: openai.OpenAI, upstream: FakeObjectsUpstream
) -> None:
    data = batch_input(2)
    uploaded = alice.files.with_raw_response.create(
        file=("up.jsonl", data), purpose="batch", extra_headers={"x-routeiq-model": "up"}
    )
    assert uploaded.headers["x-routeiq-deployment"] == "up-0"
    file_id = uploaded.parse().id
    sent = upstream.requests[-1]
    assert (sent["method"], sent["path"], sent["authorization"]) == (
        "POST",
        "/v1/files",
        "Bearer sk-upstream",
    )
    assert sent["form"] == {
        "purpose": "batch",
        "file": {"filename": "up.jsonl", "size": len(data)},
    }  # no model
    assert alice.files.content(file_id).content == data  # relayed as the upstream streamed it
    batch = alice.batches.create(
        input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert upstream.requests[-1]["json"] == {
        "input_file_id": file_id,
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
    }
    done = alice.batches.retrieve(batch.id)
    assert (done.status, upstream.requests[-1]["path"]) == ("completed", f"/v1/batches/{batch.id}")
    assert done.output_file_id is not None
    assert (
        alice.files.content(done.output_file_id).text.count("\n") == 2
    )  # the upstream's output, now alice's
    assert alice.batches.cancel(batch.id).status == "cancelling"
    assert alice.files.delete(file_id).deleted
    assert upstream.requests[-1]["method"] == "DELETE"
    assert file_id not in upstream.files


def test_an_upload_names_its_model_unless_one_group_serves_files(alice: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        alice.files.create(file=("x.jsonl", b"{}"), purpose="batch")
    assert caught.value.code == "model_required"
    assert "files, up" in caught.value.message
    via_litellm = alice.files.create(
        file=("x.jsonl", b"{}"), purpose="batch", extra_body={"target_model_names": "files"}
    )
    assert alice.files.retrieve(via_litellm.id).id == via_litellm.id


@pytest.mark.parametrize("model", ["chat-only", "no-files"])
def test_a_deployment_without_files_answers_400_naming_the_capability(
    alice: openai.OpenAI, model: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        alice.files.create(file=("x.jsonl", b"{}"), purpose="batch", extra_body={"model": model})
    assert caught.value.code == "unsupported_operation"
    assert "file_upload" in caught.value.message


def test_an_oversize_upload_is_refused_with_413(alice: openai.OpenAI, upstream: FakeObjectsUpstream) -> None:
    before = len(upstream.requests)
    with pytest.raises(openai.APIStatusError) as caught:
        alice.files.create(
            file=("big.jsonl", b"x" * (MAX_UPLOAD + 1)), purpose="batch", extra_body={"model": "up"}
        )
    assert caught.value.status_code == 413
    assert "files.max_upload_bytes" in caught.value.message
    assert len(upstream.requests) == before  # nothing reached the provider


def test_calls_need_a_key_and_count_against_its_rate_limit(gateway: GatewayProcess) -> None:
    with pytest.raises(openai.AuthenticationError):
        sdk(gateway, "sk-riq-not-a-key").files.list()
    limited = sdk(gateway, new_key(gateway, rpm_limit=2))
    uploaded = limited.files.create(file=("r.jsonl", b"{}"), purpose="batch", extra_body={"model": "files"})
    limited.files.retrieve(uploaded.id)
    with pytest.raises(openai.RateLimitError):
        limited.files.retrieve(uploaded.id)


def test_bad_paths_and_methods(gateway: GatewayProcess) -> None:
    headers = {"Authorization": f"Bearer {MASTER}"}
    base = gateway.base_url
    assert httpx.put(f"{base}/v1/files", headers=headers, timeout=5).status_code == 405
    assert httpx.get(f"{base}/v1/files/x/nope", headers=headers, timeout=5).status_code == 404
    assert httpx.get(f"{base}/v1/batches/x/cancel", headers=headers, timeout=5).status_code == 405
    for limit in ("%C2%B2", "1e3", "-1", "101", "9" * 4000):  # a superscript two is a digit to str.isdigit
        assert httpx.get(f"{base}/v1/files?limit={limit}", headers=headers, timeout=5).status_code == 400
    assert httpx.get(f"{base}/v1/batches?order=asc", headers=headers, timeout=5).status_code == 400
    r = httpx.post(
        f"{base}/v1/batches", json={"endpoint": "/v1/chat/completions"}, headers=headers, timeout=5
    )
    assert r.status_code == 400
    assert "input_file_id" in r.json()["error"]["message"]


def test_the_routes_are_in_the_openapi_document(gateway: GatewayProcess) -> None:
    paths = httpx.get(f"{gateway.base_url}/schema/openapi.json", timeout=10).json()["paths"]
    assert {"get", "post"} <= set(paths["/v1/files"])
    assert {"get", "delete"} <= set(paths["/v1/files/{file_id}"])
    assert "get" in paths["/v1/files/{file_id}/content"]
    assert {"get", "post"} <= set(paths["/v1/batches"])
    assert "post" in paths["/v1/batches/{batch_id}/cancel"]
    upload = paths["/v1/files"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
    for path in ("/v1/audio/transcriptions", "/v1/images/edits"):
        assert "multipart/form-data" in paths[path]["post"]["requestBody"]["content"]
    assert "audio/mpeg" in paths["/v1/audio/speech"]["post"]["responses"]["200"]["content"]
