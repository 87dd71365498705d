"""llamaguard (fake provider client) and bedrock_guardrails (local aiohttp fake): verdicts, failure modes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from aiohttp import web

from routeiq_adapters.metrics.memory import InMemoryMetrics
from routeiq_adapters.plugins import (
    BedrockGuardrailsPlugin,
    BedrockGuardrailsPluginConfig,
    LlamaGuardPlugin,
    LlamaGuardPluginConfig,
    PluginDeps,
)
from routeiq_adapters.plugins._common import GuardrailDownError
from routeiq_core.catalog import Deployment
from routeiq_core.errors import ConfigurationError, RouteIQError, UpstreamError
from routeiq_core.guardrails.errors import ContentPolicyViolation, GuardrailUnavailableError
from routeiq_core.plugins.port import Capability, FailureMode
from routeiq_core.providers import ProviderClient
from tests.support.providers import ScriptedChat, deployment
from tests.unit.plugins.helpers import chat, completion, make_ctx

pytestmark = pytest.mark.anyio


def llamaguard(metrics: InMemoryMetrics, client: ScriptedChat, **config: Any) -> LlamaGuardPlugin:
    guard_deployment = deployment("llama-guard")

    def provider_for(deployment_id: str) -> tuple[ProviderClient, Deployment]:
        if deployment_id != guard_deployment.id:
            raise KeyError(deployment_id)
        return client, guard_deployment

    cfg = msgspec.convert({"deployment": "llama-guard", **config}, LlamaGuardPluginConfig)
    return LlamaGuardPlugin(cfg, PluginDeps(metrics=metrics, provider_for=provider_for))


async def test_llamaguard_safe_passes_and_the_model_gets_the_task_prompt(metrics: InMemoryMetrics) -> None:
    client = ScriptedChat("safe")
    assert await llamaguard(metrics, client).before_request(make_ctx(chat("How do I bake bread?"))) is None
    (sent,) = client.payloads
    assert sent["model"] == "llama-guard-model"
    assert sent["temperature"] == 0
    assert "User: How do I bake bread?" in sent["messages"][0]["content"]


async def test_llamaguard_unsafe_blocks_with_the_category(metrics: InMemoryMetrics) -> None:
    with pytest.raises(ContentPolicyViolation) as caught:
        await llamaguard(metrics, ScriptedChat("unsafe\nS9")).before_request(
            make_ctx(chat("a dangerous ask"))
        )
    assert (caught.value.guardrail, caught.value.category) == ("llamaguard", "S9")
    assert "dangerous" not in caught.value.message


async def test_llamaguard_checks_answers_when_enabled(metrics: InMemoryMetrics) -> None:
    client = ScriptedChat("unsafe\nS1")
    plugin = llamaguard(metrics, client, responses=True)
    with pytest.raises(ContentPolicyViolation, match="The response was blocked"):
        await plugin.after_response(make_ctx(chat("hi")), completion("violent answer"))
    assert "Agent: violent answer" in client.payloads[0]["messages"][0]["content"]


async def test_llamaguard_down_fails_open_by_default_and_closed_under_abort(metrics: InMemoryMetrics) -> None:
    down = UpstreamError("connection refused", status_code=502)
    with pytest.raises(GuardrailDownError) as caught:  # not a RouteIQError: the manager's `continue` applies
        await llamaguard(metrics, ScriptedChat(down)).before_request(make_ctx(chat("hi")))
    assert not isinstance(caught.value, RouteIQError)
    plugin = llamaguard(metrics, ScriptedChat(down), failure_mode="abort")
    assert plugin.spec.failure_mode is FailureMode.ABORT
    with pytest.raises(GuardrailUnavailableError):
        await plugin.before_request(make_ctx(chat("hi")))
    assert metrics.counter("routeiq_guardrail_unavailable", guardrail="llamaguard") == 2


def test_llamaguard_needs_a_known_deployment(metrics: InMemoryMetrics) -> None:
    with pytest.raises(ConfigurationError, match=r"plugins\.llamaguard\.deployment: unknown deployment"):
        llamaguard(metrics, ScriptedChat(), deployment="nope")
    cfg = LlamaGuardPluginConfig(deployment="llama-guard")
    with pytest.raises(ConfigurationError, match="no provider access"):
        LlamaGuardPlugin(cfg, PluginDeps(metrics=metrics))


def test_llamaguard_declares_network(metrics: InMemoryMetrics) -> None:
    assert llamaguard(metrics, ScriptedChat()).spec.capabilities == {
        Capability.REQUEST_READ,
        Capability.NETWORK,
    }


KEY, SECRET = "AKIDTEST", "test-secret-key"
INTERVENED = {
    "action": "GUARDRAIL_INTERVENED",
    "outputs": [{"text": "Sorry."}],
    "assessments": [
        {"topicPolicy": {"topics": [{"name": "Investments", "type": "DENY", "action": "BLOCKED"}]}}
    ],
}


class FakeBedrock:
    """Speaks ApplyGuardrail: intervenes on texts containing 'forbidden'; fails with 500 when told to."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail = False

    async def apply(self, request: web.Request) -> web.Response:
        if not request.headers.get("Authorization", "").startswith(f"AWS4-HMAC-SHA256 Credential={KEY}/"):
            return web.json_response({"message": "unsigned"}, status=403)
        if self.fail:
            return web.json_response({"message": "internal failure"}, status=500)
        payload = msgspec.json.decode(await request.read())
        self.requests.append({"path": request.path, "payload": payload})
        texts = [c["text"]["text"] for c in payload["content"]]
        return web.json_response(
            INTERVENED if any("forbidden" in t for t in texts) else {"action": "NONE", "outputs": []}
        )


@pytest.fixture
async def bedrock() -> AsyncIterator[tuple[FakeBedrock, str]]:
    server = FakeBedrock()
    app = web.Application()
    app.router.add_post("/guardrail/{gid}/version/{version}/apply", server.apply)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield server, f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def bedrock_plugin(deps: PluginDeps, endpoint: str, **config: Any) -> BedrockGuardrailsPlugin:
    raw = {
        "guardrail_id": "gr-1",
        "guardrail_version": "3",
        "region": "eu-west-1",
        "endpoint": endpoint,
        "access_key_id": KEY,
        "secret_access_key": SECRET,
        **config,
    }
    return BedrockGuardrailsPlugin(msgspec.convert(raw, BedrockGuardrailsPluginConfig), deps)


async def test_bedrock_clean_request_passes(deps: PluginDeps, bedrock: tuple[FakeBedrock, str]) -> None:
    server, endpoint = bedrock
    plugin = bedrock_plugin(deps, endpoint)
    try:
        assert await plugin.before_request(make_ctx(chat("hello"))) is None
    finally:
        await plugin.on_shutdown()
    (request,) = server.requests
    assert request["path"] == "/guardrail/gr-1/version/3/apply"
    assert request["payload"] == {"source": "INPUT", "content": [{"text": {"text": "hello"}}]}


async def test_bedrock_intervention_blocks_requests_and_answers(
    deps: PluginDeps, bedrock: tuple[FakeBedrock, str]
) -> None:
    server, endpoint = bedrock
    plugin = bedrock_plugin(deps, endpoint, responses=True)
    try:
        with pytest.raises(ContentPolicyViolation) as caught:
            await plugin.before_request(make_ctx(chat("a forbidden topic")))
        assert (caught.value.guardrail, caught.value.category) == ("bedrock_guardrails", "topic:Investments")
        with pytest.raises(ContentPolicyViolation, match="The response was blocked"):
            await plugin.after_response(make_ctx(chat("hi")), completion("forbidden advice"))
    finally:
        await plugin.on_shutdown()
    assert server.requests[1]["payload"]["source"] == "OUTPUT"


async def test_bedrock_flag_and_failure_modes(
    deps: PluginDeps, metrics: InMemoryMetrics, bedrock: tuple[FakeBedrock, str]
) -> None:
    server, endpoint = bedrock
    flagging = bedrock_plugin(deps, endpoint, action="flag")
    aborting = bedrock_plugin(deps, endpoint, failure_mode="abort")
    try:
        assert await flagging.before_request(make_ctx(chat("forbidden"))) is None
        assert metrics.counter("routeiq_guardrail_flags", guardrail="bedrock_guardrails") == 1
        server.fail = True
        with pytest.raises(GuardrailDownError, match="HTTP 500"):
            await flagging.before_request(make_ctx(chat("hello")))
        with pytest.raises(GuardrailUnavailableError):
            await aborting.before_request(make_ctx(chat("hello")))
    finally:
        await flagging.on_shutdown()
        await aborting.on_shutdown()


def test_bedrock_config_never_shows_credentials(deps: PluginDeps) -> None:
    plugin = bedrock_plugin(deps, "http://127.0.0.1:9")
    assert SECRET not in repr(plugin.config)
    assert KEY not in repr(plugin.config)
