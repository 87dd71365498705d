"""LlamaGuard moderation through the provider port: prompt format and answer parsing."""

from __future__ import annotations

import pytest

from routeiq_core.errors import UpstreamError
from routeiq_core.guardrails.errors import GuardrailUnavailableError
from routeiq_core.guardrails.llamaguard import LlamaGuard, LlamaGuardConfig, build_prompt, parse_answer
from tests.support.providers import ScriptedChat, deployment

pytestmark = pytest.mark.anyio

REQUEST = {
    "messages": [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "How do I hotwire a car?"},
    ]
}


@pytest.mark.parametrize(
    ("answer", "flagged", "categories"),
    [
        ("safe", False, ()),
        ("  Safe\n", False, ()),
        ("unsafe\nS1,S10", True, ("S1", "S10")),
        ("unsafe\nS2", True, ("S2",)),
        ("unsafe S3, s7", True, ("S3", "S7")),
        ("unsafe\nS1, S1", True, ("S1",)),
        ("unsafe", True, ("unsafe",)),
    ],
)
def test_parse_answer(answer: str, flagged: bool, categories: tuple[str, ...]) -> None:
    verdict = parse_answer(answer)
    assert verdict.flagged is flagged
    assert verdict.categories == categories


@pytest.mark.parametrize("answer", ["", "I cannot tell", "maybe\nS1"])
def test_unreadable_answers_raise(answer: str) -> None:
    with pytest.raises(ValueError, match="neither"):
        parse_answer(answer)


def test_the_prompt_follows_the_llamaguard_format() -> None:
    prompt = build_prompt(
        [("User", "hi"), ("Agent", "hello")], role="Agent", categories=[("S1", "Violent Crimes")]
    )
    assert "Check if there is unsafe content in 'Agent' messages" in prompt
    assert "<BEGIN UNSAFE CONTENT CATEGORIES>\nS1: Violent Crimes.\n<END UNSAFE CONTENT CATEGORIES>" in prompt
    assert "<BEGIN CONVERSATION>\n\nUser: hi\n\nAgent: hello\n\n<END CONVERSATION>" in prompt
    assert "ONLY THE LAST Agent message" in prompt
    assert "First line must read 'safe' or 'unsafe'." in prompt


async def test_check_request_sends_the_conversation_to_the_configured_deployment() -> None:
    client = ScriptedChat("unsafe\nS2")
    guard = LlamaGuard(client, LlamaGuardConfig(deployment=deployment("guard"), timeout_s=3.0))
    verdict = await guard.check_request(REQUEST)
    assert verdict.flagged
    assert verdict.categories == ("S2",)
    (payload,) = client.payloads
    assert payload["model"] == "guard-model"
    assert payload["temperature"] == 0
    assert client.timeouts == [3.0]
    (message,) = payload["messages"]
    assert "User: How do I hotwire a car?" in message["content"]
    assert "You are helpful." not in message["content"]
    assert "'User' messages" in message["content"]


async def test_check_response_assesses_the_agent_turn() -> None:
    client = ScriptedChat("safe")
    guard = LlamaGuard(client, LlamaGuardConfig(deployment=deployment("guard")))
    assert not (await guard.check_response(REQUEST, "Please call a locksmith.")).flagged
    content = client.payloads[0]["messages"][0]["content"]
    assert content.index("User: How do I hotwire") < content.index("Agent: Please call a locksmith.")
    assert "ONLY THE LAST Agent message" in content


async def test_raw_messages_mode_and_cutting_long_conversations() -> None:
    client = ScriptedChat("safe")
    guard = LlamaGuard(
        client, LlamaGuardConfig(deployment=deployment("guard"), raw_messages=True, max_chars=10)
    )
    await guard.check_request(
        {"messages": [{"role": "user", "content": "old " * 10}, {"role": "user", "content": "x" * 30}]}
    )
    assert client.payloads[0]["messages"] == [{"role": "user", "content": "x" * 10}]


async def test_failures_become_guardrail_unavailable() -> None:
    client = ScriptedChat(UpstreamError("boom", status_code=503), "no idea")
    guard = LlamaGuard(client, LlamaGuardConfig(deployment=deployment("guard")))
    with pytest.raises(GuardrailUnavailableError, match="moderation call failed") as failed:
        await guard.check_request(REQUEST)
    assert failed.value.status_code == 503
    assert failed.value.guardrail == "llamaguard"
    with pytest.raises(GuardrailUnavailableError, match="unreadable"):
        await guard.check_request(REQUEST)


async def test_an_empty_conversation_is_safe_without_a_call() -> None:
    client = ScriptedChat()
    assert not (
        await LlamaGuard(client, LlamaGuardConfig(deployment=deployment("guard"))).check_request({})
    ).flagged
    assert client.payloads == []
