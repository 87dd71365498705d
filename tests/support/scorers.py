"""A user's scoring function for exploration tests: known per-prompt qualities of two mock models.

Math prompts are answered right only by the strong model; anything else by both.
"""

from __future__ import annotations


def math_quality(prompt: str, model_group: str, answer: str) -> float:
    """1 when ``model_group`` answers ``prompt`` right, else 0 (``answer`` is not needed here)."""
    if "integral" in prompt and model_group != "strong":
        return 0.0
    return 1.0
