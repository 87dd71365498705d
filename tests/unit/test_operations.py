"""Operations beyond chat: what a deployment serves, the mock's answers, the prompt estimates."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import msgspec
import pytest

from routeiq_adapters.providers.litellm import LiteLLMProvider
from routeiq_adapters.providers.mock import MockProvider
from routeiq_adapters.providers.openai_http import _usage
from routeiq_app.catalog_builder import build_catalog
from routeiq_app.settings.loader import load_settings_with_notices
from routeiq_app.surfaces.openai.forms import decode_form
from routeiq_app.surfaces.openai.multipart import MAX_FIELD_BYTES, MAX_PARTS, boundary_of, parse_form
from routeiq_app.surfaces.openai.wire_tasks import ImageEditForm
from routeiq_core.catalog import ModelGroup
from routeiq_core.context import CallContext
from routeiq_core.errors import InvalidRequestError, UpstreamError
from routeiq_core.gateway import estimate_prompt_tokens
from routeiq_core.operations import PROVIDER_OBJECTS
from routeiq_core.providers import Operation
from tests.support.gateways import make
from tests.support.providers import deployment

pytestmark = pytest.mark.anyio
CHAT_ONLY = frozenset({Operation.CHAT, Operation.COMPLETIONS})


def call(operation: Operation, model: str = "g", **payload: Any) -> CallContext:
    return CallContext(operation=operation, model=model, payload={"model": model, **payload})


async def test_a_group_none_of_whose_deployments_serves_the_operation_is_a_400() -> None:
    group = ModelGroup(name="g", deployments=(deployment("g", 0, operations=CHAT_ONLY),))
    gateway, client, *_ = make([group])
    with pytest.raises(InvalidRequestError) as caught:
        await gateway.complete(call(Operation.IMAGES, prompt="a fox"))
    assert caught.value.code == "unsupported_operation"
    assert "'g' cannot serve images" in caught.value.message
    assert "chat, completions" in caught.value.message
    assert client.calls == []


async def test_only_the_deployments_that_serve_the_operation_are_tried() -> None:
    images = frozenset({Operation.IMAGES})
    group = ModelGroup(
        name="g",
        deployments=(deployment("g", 0, operations=CHAT_ONLY), deployment("g", 1, operations=images)),
    )
    gateway, _, *_ = make([group])
    answer = await gateway.complete(call(Operation.IMAGES, prompt="a fox"))
    assert answer.route.deployment_id == "g-1"
    chat = await gateway.complete(call(Operation.CHAT, messages=[{"role": "user", "content": "hi"}]))
    assert chat.route.deployment_id == "g-0"


def test_a_deployment_without_operations_serves_any() -> None:
    assert deployment("g").serves(Operation.RERANK)
    assert not deployment("g", operations=CHAT_ONLY).serves(Operation.RERANK)


def test_prompt_estimates_of_the_new_operations() -> None:
    assert estimate_prompt_tokens(Operation.IMAGES, {"prompt": "x" * 40}) == 10
    assert estimate_prompt_tokens(Operation.MODERATIONS, {"input": ["x" * 40, "y" * 40]}) == 20
    rerank = {"query": "q" * 8, "documents": ["d" * 40, {"text": "e" * 40}]}
    assert estimate_prompt_tokens(Operation.RERANK, rerank) == 20 + 2 * 2


async def send(operation: Operation, **payload: Any) -> dict[str, Any]:
    reply = await MockProvider().send(deployment("m"), operation, {"model": "m", **payload}, timeout_s=5)
    assert reply.usage is not None
    assert reply.usage.completion_tokens == 0
    body: dict[str, Any] = msgspec.json.decode(reply.body)
    return body


async def test_the_mock_moderates_deterministically() -> None:
    body = await send(Operation.MODERATIONS, input=["a sunny day", "I hate this and will kill it"])
    calm, angry = body["results"]
    assert not calm["flagged"]
    assert angry["flagged"]
    assert angry["categories"]["hate"]
    assert angry["categories"]["violence"]
    assert max(calm["category_scores"].values()) < 0.01
    again = await send(Operation.MODERATIONS, input=["a sunny day", "I hate this and will kill it"])
    assert again["results"] == body["results"]
    parts = await send(Operation.MODERATIONS, input=[{"type": "text", "text": "gore"}, {"type": "image_url"}])
    assert len(parts["results"]) == 1
    assert parts["results"][0]["categories"]["violence/graphic"]


async def test_the_mock_draws_one_png_per_image() -> None:
    body = await send(Operation.IMAGES, prompt="a fox", n=3)
    pngs = [base64.b64decode(image["b64_json"]) for image in body["data"]]
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in pngs)
    assert len(set(pngs)) == 3  # one colour each
    url = await send(Operation.IMAGES, prompt="a fox", response_format="url")
    assert url["data"][0]["url"].startswith("data:image/png;base64,")


async def test_the_mock_ranks_by_word_overlap() -> None:
    body = await send(
        Operation.RERANK, query="red fox", documents=["a blue whale", {"text": "the red fox"}, "red"], top_n=2
    )
    assert [r["index"] for r in body["results"]] == [1, 2]
    assert body["results"][0]["relevance_score"] > body["results"][1]["relevance_score"]
    assert "document" not in body["results"][0]


@pytest.mark.parametrize(
    ("operation", "payload", "param"),
    [
        (Operation.MODERATIONS, {"input": 3}, "input"),
        (Operation.IMAGES, {"prompt": ""}, "prompt"),
        (Operation.IMAGES, {"prompt": "x", "n": 11}, "n"),
        (Operation.IMAGES, {"prompt": "x", "response_format": "gif"}, "response_format"),
        (Operation.RERANK, {"query": "q", "documents": [1]}, "documents"),
        (Operation.RERANK, {"query": "q", "documents": ["d"], "top_n": 0}, "top_n"),
    ],
)
async def test_the_mock_refuses_what_it_cannot_answer(
    operation: Operation, payload: dict[str, Any], param: str
) -> None:
    with pytest.raises(UpstreamError) as caught:
        await send(operation, **payload)
    assert caught.value.status_code == 400
    assert caught.value.param == param


def test_an_image_answers_usage_is_read_in_its_own_shape() -> None:
    body = b'{"data": [], "usage": {"input_tokens": 7, "output_tokens": 11, "total_tokens": 18}}'
    usage = _usage(body, deployment("d"), Operation.IMAGES)
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (7, 11, 18)
    assert _usage(b'{"data": []}', deployment("d"), Operation.IMAGES) is None


def test_litellm_has_a_function_for_every_operation_but_files_and_batches() -> None:
    provider = LiteLLMProvider()
    assert all(
        callable(provider._call(operation)) for operation in Operation if operation not in PROVIDER_OBJECTS
    )


async def test_litellm_refuses_files_and_batches_with_a_400() -> None:
    with pytest.raises(UpstreamError) as caught:
        await LiteLLMProvider().send(deployment("l"), Operation.FILE_RETRIEVE, {"file_id": "f"}, timeout_s=1)
    assert (caught.value.status_code, caught.value.code) == (400, "unsupported_operation")


def test_the_multipart_reader_bounds_what_it_reads() -> None:
    boundary = boundary_of('multipart/form-data; boundary="xyz"')
    field = b'--xyz\r\nContent-Disposition: form-data; name="model"\r\n\r\n'
    parts = parse_form(field + b"m\r\n--xyz--\r\n", boundary)
    assert [(p.name, p.data, p.filename) for p in parts] == [("model", b"m", None)]
    with pytest.raises(InvalidRequestError, match="longer than"):
        parse_form(field + b"m" * (MAX_FIELD_BYTES + 1) + b"\r\n--xyz--", boundary)
    with pytest.raises(InvalidRequestError, match="more than"):
        parse_form(field + b"m\r\n--xyz\r\n" * MAX_PARTS + b"x\r\n--xyz--", boundary)
    with pytest.raises(InvalidRequestError, match="no name"):
        parse_form(b"--xyz\r\nContent-Disposition: form-data\r\n\r\nm\r\n--xyz--", boundary)
    with pytest.raises(InvalidRequestError, match="multipart/form-data"):
        boundary_of("application/x-www-form-urlencoded")


async def test_a_byte_stream_is_relayed_without_sse_framing() -> None:
    group = ModelGroup(name="g", deployments=(deployment("g", 0),))
    gateway, *_ = make([group])
    gateway._clients = {"mock": MockProvider()}  # real audio chunks
    ctx = call(Operation.AUDIO_SPEECH, input="one two", response_format="pcm")
    ctx.stream = True
    stream = await gateway.open_stream(ctx)
    try:
        audio = b"".join([chunk async for chunk in stream.frames])
    finally:
        await stream.aclose()
    assert audio == bytes(2 * 2 * 1_200)  # no "data: ", no [DONE]


def test_model_info_mode_picks_the_operations(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "model_list:\n"
        "  - {model_name: a, litellm_params: {model: mock/a}, model_info: {mode: image_generation}}\n"
        "  - {model_name: b, litellm_params: {model: mock/b}, model_info: {mode: chat}}\n"
        "  - {model_name: c, litellm_params: {model: mock/c}}\n"
        "  - {model_name: d, litellm_params: {model: mock/d}, model_info: {mode: video_generation}}\n"
        "litellm_settings: {drop_params: true}\n"
    )
    settings, notices = load_settings_with_notices(str(cfg), {})
    catalog = build_catalog(settings)
    operations = {g.name: g.deployments[0].operations for g in catalog.groups}
    assert operations["a"] == {Operation.IMAGES}
    assert operations["b"] == {Operation.CHAT, Operation.COMPLETIONS}
    assert operations["c"] is None
    assert operations["d"] is None  # a mode RouteIQ does not serve is ignored, and said so
    assert any("model_info.mode" in notice for notice in notices)


def test_a_form_becomes_a_payload_with_uploads_and_numbers() -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n'
        b'--B\r\nContent-Disposition: form-data; name="n"\r\n\r\n2\r\n'
        b'--B\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhat\r\n'
        b'--B\r\nContent-Disposition: form-data; name="image[]"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\nA\r\n"
        b'--B\r\nContent-Disposition: form-data; name="image[]"; filename="b.png"\r\n\r\nBB\r\n--B--\r\n'
    )
    scope = {"headers": [(b"content-type", b"multipart/form-data; boundary=B")]}
    request = decode_form(
        body, scope, wire_type=ImageEditForm, files=frozenset({"image"}), required="image", numbers={"n": int}
    )
    payload = request.payload
    assert payload["n"] == 2
    assert [u.filename for u in payload["image"]] == ["a.png", "b.png"]
    assert payload["image"][0].media_type == "image/png"
    assert "2 bytes" in repr(payload["image"][1])  # never the bytes themselves
    with pytest.raises(InvalidRequestError, match="integer"):
        decode_form(
            body.replace(b"\r\n2\r\n", b"\r\ntwo\r\n"),
            scope,
            wire_type=ImageEditForm,
            files=frozenset({"image"}),
            required="image",
            numbers={"n": int},
        )
