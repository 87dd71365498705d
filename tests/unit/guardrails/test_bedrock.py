"""The Bedrock ApplyGuardrail client, over aiohttp, against a local fake that checks SigV4."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import anyio
import msgspec
import pytest
from aiohttp import web

from routeiq_adapters.guardrails import AiohttpHttpTransport
from routeiq_adapters.guardrails.bedrock import (
    BedrockGuardrail,
    BedrockGuardrailConfig,
    assessment_categories,
    parse_apply_response,
)
from routeiq_adapters.guardrails.sigv4 import sigv4_headers
from routeiq_core.guardrails.errors import GuardrailUnavailableError

pytestmark = pytest.mark.anyio

KEY, SECRET = "AKIDTEST", "test-secret-key"
AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[A-Z0-9]+)/(?P<day>\d{8})/(?P<region>[a-z0-9-]+)"
    r"/bedrock/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$"
)
INTERVENED = {
    "action": "GUARDRAIL_INTERVENED",
    "outputs": [{"text": "Sorry, I can't talk about that."}],
    "assessments": [
        {
            "topicPolicy": {"topics": [{"name": "Investments", "type": "DENY", "action": "BLOCKED"}]},
            "contentPolicy": {
                "filters": [
                    {"type": "VIOLENCE", "confidence": "HIGH", "action": "BLOCKED"},
                    {"type": "HATE", "confidence": "NONE", "action": "NONE"},
                ]
            },
            "wordPolicy": {"customWords": [{"match": "forbidden", "action": "BLOCKED"}]},
            "sensitiveInformationPolicy": {
                "piiEntities": [{"type": "EMAIL", "match": "a@b.io", "action": "ANONYMIZED"}]
            },
        }
    ],
}


class FakeBedrock:
    """Speaks ApplyGuardrail; refuses requests whose SigV4 signature does not verify."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.delay_s = 0.0

    async def apply(self, request: web.Request) -> web.Response:
        body = await request.read()
        auth = AUTHORIZATION.match(request.headers.get("Authorization", ""))
        if auth is None or auth["key"] != KEY or "host" not in auth["signed"].split(";"):
            return web.json_response({"message": "missing or malformed Authorization"}, status=403)
        when = dt.datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        signed = {h: request.headers[h] for h in auth["signed"].split(";") if h not in ("host", "x-amz-date")}
        expected = sigv4_headers(
            "POST", str(request.url), body, auth["region"], "bedrock", KEY, SECRET, None, when, headers=signed
        )
        if expected["Authorization"] != request.headers["Authorization"]:
            return web.json_response(
                {"message": "The request signature we calculated does not match"}, status=403
            )
        payload = msgspec.json.decode(body)
        self.requests.append({"path": request.path, "payload": payload, "signed": auth["signed"]})
        if self.delay_s:
            await anyio.sleep(self.delay_s)
        texts = [c["text"]["text"] for c in payload["content"]]
        if any("forbidden" in t for t in texts):
            return web.json_response(INTERVENED)
        return web.json_response({"action": "NONE", "outputs": [], "assessments": [{}]})


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeBedrock, str]]:
    server = FakeBedrock()
    app = web.Application()
    app.router.add_post("/guardrail/{gid}/version/{version}/apply", server.apply)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def transport() -> AsyncIterator[AiohttpHttpTransport]:
    t = AiohttpHttpTransport()
    yield t
    await t.aclose()


def config(endpoint: str, **kw: Any) -> BedrockGuardrailConfig:
    return BedrockGuardrailConfig(
        guardrail_id="gr-123",
        guardrail_version="2",
        region="eu-west-1",
        endpoint=endpoint,
        access_key_id=KEY,
        secret_access_key=SECRET,
        **kw,
    )


async def test_clean_text_passes(fake: tuple[FakeBedrock, str], transport: AiohttpHttpTransport) -> None:
    server, endpoint = fake
    guard = BedrockGuardrail(config(endpoint), transport)
    result = await guard.check_request({"messages": [{"role": "user", "content": "hello"}]})
    assert not result.verdict.flagged
    (request,) = server.requests
    assert request["path"] == "/guardrail/gr-123/version/2/apply"
    assert request["payload"] == {"source": "INPUT", "content": [{"text": {"text": "hello"}}]}
    assert request["signed"] == "accept;content-type;host;x-amz-date"


async def test_intervention_is_read_into_categories_without_the_matched_text(
    fake: tuple[FakeBedrock, str], transport: AiohttpHttpTransport
) -> None:
    _, endpoint = fake
    result = await BedrockGuardrail(config(endpoint), transport).check_response(["a forbidden answer"])
    assert result.verdict.flagged
    assert result.verdict.categories == ("topic:Investments", "content:VIOLENCE", "word:custom", "pii:EMAIL")
    assert result.outputs == ("Sorry, I can't talk about that.",)
    assert "a@b.io" not in repr(result.verdict)
    assert "bedrock_guardrails" in result.verdict.violation("bedrock_guardrails").message


async def test_a_wrong_secret_is_refused_as_unavailable(
    fake: tuple[FakeBedrock, str], transport: AiohttpHttpTransport
) -> None:
    _, endpoint = fake
    bad = BedrockGuardrailConfig(
        guardrail_id="gr-123", endpoint=endpoint, access_key_id=KEY, secret_access_key="wrong"
    )
    with pytest.raises(GuardrailUnavailableError, match="HTTP 403: The request signature") as failed:
        await BedrockGuardrail(bad, transport).apply("INPUT", ["hi"])
    assert failed.value.status_code == 503


async def test_session_tokens_are_sent_and_signed(
    fake: tuple[FakeBedrock, str], transport: AiohttpHttpTransport
) -> None:
    server, endpoint = fake
    guard = BedrockGuardrail(config(endpoint, session_token="tok"), transport)
    assert not (await guard.apply("INPUT", ["hi"])).verdict.flagged
    assert server.requests[0]["signed"] == "accept;content-type;host;x-amz-date;x-amz-security-token"


async def test_timeouts_and_unreachable_endpoints_are_unavailable(
    fake: tuple[FakeBedrock, str], transport: AiohttpHttpTransport
) -> None:
    server, endpoint = fake
    server.delay_s = 0.5
    with pytest.raises(GuardrailUnavailableError, match="timed out"):
        await BedrockGuardrail(config(endpoint, timeout_s=0.1), transport).apply("INPUT", ["hi"])
    with pytest.raises(GuardrailUnavailableError, match="failed"):
        await BedrockGuardrail(config("http://127.0.0.1:1", timeout_s=1.0), transport).apply("INPUT", ["hi"])


async def test_nothing_to_check_makes_no_call(transport: AiohttpHttpTransport) -> None:
    guard = BedrockGuardrail(config("http://127.0.0.1:1"), transport)
    assert not (await guard.apply("OUTPUT", ["", ""])).verdict.flagged


def test_default_url_and_repr_hide_nothing_but_secrets() -> None:
    cfg = BedrockGuardrailConfig(guardrail_id="arn:aws:x/y", access_key_id=KEY, secret_access_key=SECRET)
    assert (
        cfg.url
        == "https://bedrock-runtime.us-east-1.amazonaws.com/guardrail/arn%3Aaws%3Ax%2Fy/version/DRAFT/apply"
    )
    assert SECRET not in repr(cfg)
    assert KEY not in repr(cfg)


def test_parsing_edge_cases() -> None:
    with pytest.raises(ValueError, match="action"):
        parse_apply_response({"outputs": []})
    bare = parse_apply_response({"action": "GUARDRAIL_INTERVENED"})
    assert bare.verdict.categories == ("intervened",)
    assert assessment_categories(
        [None, {"contentPolicy": "odd"}, {"wordPolicy": {"managedWordLists": [{"type": "PROFANITY"}]}}]
    ) == ("word:PROFANITY",)
