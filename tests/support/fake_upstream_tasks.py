"""The fake upstream's answers to moderations, image generation and rerank (fixed, recognisable)."""

from __future__ import annotations

from typing import Any

IMAGE_B64 = "ZmFrZS1pbWFnZQ=="  # "fake-image"
IMAGE_USAGE = {"input_tokens": 7, "output_tokens": 11, "total_tokens": 18}
SPEECH_CHUNKS = (b"ID3fake-", b"mp3-", b"audio")
TRANSCRIPT = "Hello from the fake upstream."
TASK_PATHS = ("/v1/moderations", "/v1/images/generations", "/v1/rerank")


def task_answer(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The answer to ``body`` on one of :data:`TASK_PATHS`."""
    model = str(body.get("model", ""))
    if path.endswith("/moderations"):
        raw = body.get("input")
        count = len(raw) if isinstance(raw, list) else 1
        result = {"flagged": False, "categories": {"hate": False}, "category_scores": {"hate": 0.001}}
        return {"id": "modr-fake", "model": model, "results": [result] * count}
    if path.endswith("/images/generations"):
        n = body.get("n") or 1
        return {"created": 1_700_000_000, "data": [{"b64_json": IMAGE_B64}] * n, "usage": IMAGE_USAGE}
    documents = body.get("documents") or []
    ranked = list(reversed(range(len(documents))))[: body.get("top_n") or None]
    results = [{"index": i, "relevance_score": round(1.0 - 0.1 * rank, 3)} for rank, i in enumerate(ranked)]
    return {"id": "rerank-fake", "results": results, "meta": {"billed_units": {"search_units": 1}}}
