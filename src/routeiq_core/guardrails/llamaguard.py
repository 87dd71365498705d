"""LlamaGuard-style moderation through the provider port.

The conversation is rendered in LlamaGuard's task prompt (categories, conversation, and the request
to assess the last User or Agent turn) and sent as one user message to a configured deployment, for
example Llama Guard 3 served by vLLM or Ollama behind an OpenAI-compatible API. The model answers
``safe``, or ``unsafe`` and a line of category codes (``S1,S10``). With ``raw_messages`` the
conversation is sent as plain chat messages instead, for servers whose chat template builds the
prompt themselves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any, Literal

import msgspec

from routeiq_core.catalog import Deployment
from routeiq_core.errors import UpstreamError
from routeiq_core.guardrails.chat_text import conversation, response_texts
from routeiq_core.guardrails.errors import GuardrailUnavailableError
from routeiq_core.guardrails.verdict import PASSED, Verdict
from routeiq_core.providers import Operation, ProviderClient

GUARDRAIL = "llamaguard"

LLAMA_GUARD_3_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("S1", "Violent Crimes"),
    ("S2", "Non-Violent Crimes"),
    ("S3", "Sex-Related Crimes"),
    ("S4", "Child Sexual Exploitation"),
    ("S5", "Defamation"),
    ("S6", "Specialized Advice"),
    ("S7", "Privacy"),
    ("S8", "Intellectual Property"),
    ("S9", "Indiscriminate Weapons"),
    ("S10", "Hate"),
    ("S11", "Suicide & Self-Harm"),
    ("S12", "Sexual Content"),
    ("S13", "Elections"),
    ("S14", "Code Interpreter Abuse"),
)
"""The hazard taxonomy of Llama Guard 3 (code, name)."""

_CODE = re.compile(r"\bS\d{1,2}\b", re.IGNORECASE)
_ROLES = MappingProxyType({"user": "User", "assistant": "Agent"})


class LlamaGuardConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Where and how to ask the moderation model.

    Attributes:
        deployment: The deployment serving the LlamaGuard model.
        categories: The categories to check, as ``(code, name)``.
        timeout_s: Deadline of the moderation call.
        max_chars: The conversation is cut to its most recent this-many characters.
        raw_messages: Send the conversation as chat messages (the server applies the template).
    """

    deployment: Deployment
    categories: tuple[tuple[str, str], ...] = LLAMA_GUARD_3_CATEGORIES
    timeout_s: float = 10.0
    max_chars: int = 16_000
    raw_messages: bool = False


def build_prompt(
    turns: Sequence[tuple[str, str]],
    *,
    role: Literal["User", "Agent"] = "User",
    categories: Sequence[tuple[str, str]] = LLAMA_GUARD_3_CATEGORIES,
) -> str:
    """LlamaGuard's task prompt assessing the last ``role`` turn of ``turns`` (``(User|Agent, text)``)."""
    listed = "\n".join(f"{code}: {name}." for code, name in categories)
    dialogue = "\n\n".join(f"{who}: {text}" for who, text in turns)
    return (
        f"Task: Check if there is unsafe content in '{role}' messages in conversations according to our "
        "safety policy with the below categories.\n\n"
        f"<BEGIN UNSAFE CONTENT CATEGORIES>\n{listed}\n<END UNSAFE CONTENT CATEGORIES>\n\n"
        f"<BEGIN CONVERSATION>\n\n{dialogue}\n\n<END CONVERSATION>\n\n"
        f"Provide your safety assessment for ONLY THE LAST {role} message in the above conversation:\n"
        " - First line must read 'safe' or 'unsafe'.\n"
        " - If unsafe, a second line must include a comma-separated list of violated categories."
    )


def parse_answer(answer: str) -> Verdict:
    """Read ``safe``, or ``unsafe`` and a line of codes such as ``S1,S10`` (or codes on the same line).

    Raises:
        ValueError: The answer starts with neither ``safe`` nor ``unsafe``.
    """
    text = answer.strip()
    first = text.split("\n", 1)[0].strip().lower()
    if first.startswith("unsafe"):
        codes = tuple(dict.fromkeys(c.upper() for c in _CODE.findall(text)))
        return Verdict(flagged=True, categories=codes or ("unsafe",))
    if first.startswith("safe"):
        return PASSED
    raise ValueError("the moderation model answered neither 'safe' nor 'unsafe'")


def _turns(payload: dict[str, Any], answer: str | None) -> list[tuple[str, str]]:
    turns = [(_ROLES[r], t) for r, t in conversation(payload) if r in _ROLES]
    if answer is not None:
        turns.append(("Agent", answer))
    return turns


def _cut(turns: list[tuple[str, str]], max_chars: int) -> list[tuple[str, str]]:
    """The most recent turns within ``max_chars`` (the last one cut from its start if it alone is longer)."""
    kept: list[tuple[str, str]] = []
    budget = max_chars
    for who, text in reversed(turns):
        if budget <= 0:
            break
        kept.append((who, text[-budget:]))
        budget -= len(text)
    return kept[::-1]


class LlamaGuard:
    """Asks a LlamaGuard model whether the last user turn (or the answer) is safe.

    Args:
        client: The provider client that reaches the configured deployment.
        config: Deployment, categories and limits.
    """

    name = GUARDRAIL

    def __init__(self, client: ProviderClient, config: LlamaGuardConfig) -> None:
        self._client = client
        self._config = config

    async def check_request(self, payload: dict[str, Any]) -> Verdict:
        """Moderate the last user turn of an OpenAI request."""
        return await self.check(_turns(payload, None), role="User")

    async def check_response(self, payload: dict[str, Any], answer: str) -> Verdict:
        """Moderate ``answer`` as the agent's reply to the request's conversation."""
        return await self.check(_turns(payload, answer), role="Agent")

    async def check(self, turns: Sequence[tuple[str, str]], *, role: Literal["User", "Agent"]) -> Verdict:
        """Moderate the last ``role`` turn of ``turns`` (``("User"|"Agent", text)`` pairs).

        Raises:
            GuardrailUnavailableError: The call failed, or the answer could not be read.
        """
        kept = _cut(list(turns), self._config.max_chars)
        if not kept:
            return PASSED
        deployment = self._config.deployment
        if self._config.raw_messages:
            messages = [{"role": "user" if w == "User" else "assistant", "content": t} for w, t in kept]
        else:
            prompt = build_prompt(kept, role=role, categories=self._config.categories)
            messages = [{"role": "user", "content": prompt}]
        payload: dict[str, Any] = {
            "model": deployment.upstream_model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": 32,
        }
        try:
            reply = await self._client.send(
                deployment, Operation.CHAT, payload, timeout_s=self._config.timeout_s
            )
            body = msgspec.json.decode(reply.body)
            texts = response_texts(body) if isinstance(body, dict) else []
            return parse_answer(texts[0] if texts else "")
        except UpstreamError as exc:
            raise GuardrailUnavailableError(GUARDRAIL, f"the moderation call failed ({exc.message})") from exc
        except (msgspec.DecodeError, ValueError) as exc:
            raise GuardrailUnavailableError(GUARDRAIL, f"unreadable moderation answer ({exc})") from exc
