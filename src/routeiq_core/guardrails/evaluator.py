"""Post-response evaluators: a quality score in ``[0, 1]`` for each answer, fed to routing outcomes.

:class:`HeuristicEvaluator` needs no model. For question ``q`` and answer ``a`` (first choice)::

    score = 0                                                     if a is blank
    score = refusal * truncation * length * variety               otherwise
      refusal    = 0.1 if a opens with a refusal ("I'm sorry, but I can't ...") else 1
      truncation = 0.5 if finish_reason == "length" else 1
      length     = min(1, words(a) / max(3, 0.25 * words(q)))     (short answers to long questions)
      variety    = min(1, distinct_trigrams(a) / (0.8 * trigrams(a)))   (1 below 10 trigrams; loops)

:class:`LLMJudgeEvaluator` asks a judge model through the provider port for a 1-10 rating and maps it
to ``(rating - 1) / 9``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

import msgspec

from routeiq_core.catalog import Deployment
from routeiq_core.guardrails.chat_text import request_texts, response_texts
from routeiq_core.providers import Operation, ProviderClient

_WORD = re.compile(r"\w+")
_REFUSAL = re.compile(
    r"^\W*(?:I'm sorry|I am sorry|Sorry|I apologi[sz]e|Unfortunately)?[, ]*(?:but )?"
    r"(?:I (?:can(?:no|')t|cannot|won't|will not|am (?:not able|unable) to|'m (?:not able|unable) to)"
    r"|As an AI(?: language model)?,? I (?:can(?:no|')t|cannot|don't|do not))"
    r" (?:help|assist|provide|do|comply|answer|fulfil+|share|create|write|support|engage|give|generate)",
    re.IGNORECASE,
)
_RATING = re.compile(r"(?:score|rating)\s*[:=]?\s*(\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)\s*/\s*10\b", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?!\w|\.\d)")


class Evaluation(msgspec.Struct, frozen=True, kw_only=True):
    """A quality score in ``[0, 1]`` and the reasons it is below 1 (names, never text)."""

    score: float
    reasons: tuple[str, ...] = ()


class Evaluator(Protocol):
    """Scores a finished answer to a request; ``None`` when it cannot tell."""

    async def evaluate(self, payload: Mapping[str, Any], response: Mapping[str, Any]) -> Evaluation | None:
        """Score ``response`` (OpenAI completion JSON) as an answer to ``payload`` (the request)."""
        ...


def _question(payload: Mapping[str, Any]) -> str:
    texts = request_texts(payload, roles=("user",))
    return texts[-1] if texts else ""


def _first_choice(response: Mapping[str, Any]) -> tuple[str, str | None]:
    texts = response_texts(response)
    choices = response.get("choices")
    first = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
    reason = first.get("finish_reason")
    return (texts[0] if texts else ""), (reason if isinstance(reason, str) else None)


class HeuristicEvaluator:
    """The model-free evaluator (formula in the module docstring)."""

    def score_texts(self, question: str, answer: str, finish_reason: str | None = None) -> Evaluation:
        """Score ``answer`` to ``question`` given the upstream's ``finish_reason``."""
        if not answer.strip():
            return Evaluation(score=0.0, reasons=("empty",))
        words = [w.lower() for w in _WORD.findall(answer)]
        factors: list[tuple[str, float]] = []
        if _REFUSAL.match(answer):
            factors.append(("refusal", 0.1))
        if finish_reason == "length":
            factors.append(("truncated", 0.5))
        expected = max(3.0, 0.25 * len(_WORD.findall(question)))
        factors.append(("too_short", min(1.0, len(words) / expected)))
        trigrams = list(zip(words, words[1:], words[2:], strict=False))
        if len(trigrams) >= 10:
            factors.append(("repetitive", min(1.0, len(set(trigrams)) / (0.8 * len(trigrams)))))
        score = 1.0
        for _, factor in factors:
            score *= factor
        return Evaluation(score=round(score, 6), reasons=tuple(name for name, f in factors if f < 1.0))

    async def evaluate(self, payload: Mapping[str, Any], response: Mapping[str, Any]) -> Evaluation | None:
        """Score the first choice of ``response`` against the last user text of ``payload``."""
        answer, reason = _first_choice(response)
        return self.score_texts(_question(payload), answer, reason)


JUDGE_PROMPT = (
    "You are grading an AI assistant's answer. Rate how well the answer addresses the user's question "
    "(correctness, relevance, completeness, clarity) on a scale of 1 to 10, where 1 is useless and 10 "
    "is excellent. Reply with the rating only, as 'Score: N'.\n\n"
    "[Question]\n{question}\n\n[Answer]\n{answer}"
)


def parse_judge_score(text: str) -> float | None:
    """The 1-10 rating in a judge's reply, mapped to ``[0, 1]``; ``None`` when there is none.

    Reads ``Score: 7``, ``Rating = 8.5``, ``7/10``, or else the first number between 1 and 10.
    """
    for match in _RATING.finditer(text):
        value = float(match.group(1) or match.group(2))
        if 1.0 <= value <= 10.0:
            return round((value - 1.0) / 9.0, 6)
    for match in _NUMBER.finditer(text):
        value = float(match.group(1))
        if 1.0 <= value <= 10.0:
            return round((value - 1.0) / 9.0, 6)
    return None


class LLMJudgeEvaluator:
    """Asks a judge model (through the provider port) to rate each answer from 1 to 10.

    Args:
        client: Provider client reaching ``deployment``.
        deployment: The judge model's deployment.
        timeout_s: Deadline of the judge call.
        max_chars: Question and answer are each cut to this many characters.
    """

    def __init__(
        self,
        client: ProviderClient,
        deployment: Deployment,
        *,
        timeout_s: float = 15.0,
        max_chars: int = 6_000,
    ) -> None:
        self._client = client
        self._deployment = deployment
        self._timeout_s = timeout_s
        self._max_chars = max_chars

    async def evaluate(self, payload: Mapping[str, Any], response: Mapping[str, Any]) -> Evaluation | None:
        """The judge's rating of the first choice, or ``None`` when the reply holds no rating.

        Raises:
            routeiq_core.errors.UpstreamError: The judge call failed.
        """
        answer, _ = _first_choice(response)
        if not answer.strip():
            return Evaluation(score=0.0, reasons=("empty",))
        prompt = JUDGE_PROMPT.format(
            question=_question(payload)[: self._max_chars], answer=answer[: self._max_chars]
        )
        request: dict[str, Any] = {
            "model": self._deployment.upstream_model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": 0,
            "max_tokens": 16,
        }
        reply = await self._client.send(self._deployment, Operation.CHAT, request, timeout_s=self._timeout_s)
        try:
            body = msgspec.json.decode(reply.body)
        except msgspec.DecodeError:
            return None
        texts = response_texts(body) if isinstance(body, dict) else []
        score = parse_judge_score(texts[0]) if texts else None
        return None if score is None else Evaluation(score=score, reasons=("judge",))
