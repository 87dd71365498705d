"""The heuristic evaluator's formula and the LLM judge's prompt and parsing."""

from __future__ import annotations

from typing import Any

import pytest

from routeiq_core.errors import UpstreamError
from routeiq_core.guardrails.evaluator import HeuristicEvaluator, LLMJudgeEvaluator, parse_judge_score
from tests.support.providers import ScriptedChat, deployment

pytestmark = pytest.mark.anyio

QUESTION = {"messages": [{"role": "user", "content": "What is the boiling point of water at sea level?"}]}
GOOD = "Water boils at 100 degrees Celsius (212 Fahrenheit) at sea level."


def response(content: str | None, finish_reason: str = "stop") -> dict[str, Any]:
    return {"choices": [{"index": 0, "message": {"content": content}, "finish_reason": finish_reason}]}


async def test_a_direct_complete_answer_scores_one() -> None:
    evaluation = await HeuristicEvaluator().evaluate(QUESTION, response(GOOD))
    assert evaluation is not None
    assert evaluation.score == 1.0
    assert evaluation.reasons == ()


@pytest.mark.parametrize(
    ("answer", "finish", "score", "reasons"),
    [
        ("", "stop", 0.0, ("empty",)),
        ("   ", "stop", 0.0, ("empty",)),
        ("I'm sorry, but I can't help with that request.", "stop", 0.1, ("refusal",)),
        ("As an AI language model, I cannot provide that.", "stop", 0.1, ("refusal",)),
        (GOOD, "length", 0.5, ("truncated",)),
        ("100.", "stop", 1 / 3, ("too_short",)),
    ],
)
def test_each_penalty(answer: str, finish: str, score: float, reasons: tuple[str, ...]) -> None:
    evaluation = HeuristicEvaluator().score_texts("What is the boiling point of water?", answer, finish)
    assert evaluation.score == pytest.approx(score, abs=1e-6)
    assert evaluation.reasons == reasons


def test_long_questions_expect_longer_answers() -> None:
    question = " ".join(["word"] * 80)
    assert HeuristicEvaluator().score_texts(question, "Yes, it does, mostly.").score == pytest.approx(4 / 20)


def test_repetition_is_penalised() -> None:
    looping = "the cat sat on the mat " * 10
    evaluation = HeuristicEvaluator().score_texts("Tell me about the cat.", looping)
    assert "repetitive" in evaluation.reasons
    assert evaluation.score < 0.15
    prose = "Cats are small carnivorous mammals kept as pets; they sleep a lot and hunt mice at night."
    assert HeuristicEvaluator().score_texts("Tell me about cats.", prose).score == 1.0


def test_a_sentence_starting_with_i_cannot_is_not_always_a_refusal() -> None:
    assert (
        HeuristicEvaluator().score_texts("Is it big?", "I can't believe how big it is: 3 km wide.").score
        == 1.0
    )


@pytest.mark.parametrize(
    ("reply", "score"),
    [
        ("Score: 10", 1.0),
        ("score: 1", 0.0),
        ("Rating = 5.5", 0.5),
        ("I'd give it 7/10.", 6 / 9),
        ("8", 7 / 9),
        ("The answer deserves 4.", 3 / 9),
        ("Score: 42. Actually 9", 8 / 9),
        ("no idea", None),
        ("0 out of 100", None),
    ],
)
def test_parse_judge_score(reply: str, score: float | None) -> None:
    parsed = parse_judge_score(reply)
    assert parsed == (None if score is None else pytest.approx(score, abs=1e-6))


async def test_the_judge_asks_the_configured_deployment_and_maps_the_rating() -> None:
    client = ScriptedChat("Score: 8")
    judge = LLMJudgeEvaluator(client, deployment("judge"), timeout_s=2.0, max_chars=20)
    evaluation = await judge.evaluate(QUESTION, response(GOOD))
    assert evaluation is not None
    assert evaluation.score == pytest.approx(7 / 9, abs=1e-6)
    (payload,) = client.payloads
    assert payload["model"] == "judge-model"
    assert client.timeouts == [2.0]
    prompt = payload["messages"][0]["content"]
    assert "scale of 1 to 10" in prompt
    assert "What is the boiling " in prompt
    assert "boiling point of water at" not in prompt


async def test_the_judge_returns_none_without_a_rating_and_skips_empty_answers() -> None:
    client = ScriptedChat("hmm")
    judge = LLMJudgeEvaluator(client, deployment("judge"))
    assert await judge.evaluate(QUESTION, response(GOOD)) is None
    empty = await judge.evaluate(QUESTION, response(None))
    assert empty is not None
    assert empty.score == 0.0
    assert len(client.payloads) == 1


async def test_judge_failures_propagate() -> None:
    judge = LLMJudgeEvaluator(ScriptedChat(UpstreamError("down", status_code=503)), deployment("judge"))
    with pytest.raises(UpstreamError):
        await judge.evaluate(QUESTION, response(GOOD))
