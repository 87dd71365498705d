"""Small trained router artifacts for tests: one that always picks the cheap model, one that sends math
to the strong model.
"""

from __future__ import annotations

import json
from pathlib import Path

from routeiq_core.routing.learned import (
    HashingEmbedderConfig,
    load_routing_table,
    save_router,
    train_routing_model,
)


def write_table(path: Path, *, cheap_is_always_right: bool = False) -> None:
    """Math prompts (only the strong model is right, unless ``cheap_is_always_right``) and chit-chat."""
    rows = []
    for i in range(40):
        math = i % 2 == 0
        prompt = f"solve the integral of x^{i} dx step by step" if math else f"say hello to friend number {i}"
        cheap = 1.0 if cheap_is_always_right or not math else 0.0
        rows.append(
            {
                "id": f"r{i}",
                "prompt": prompt,
                "task": "math" if math else "chat",
                "scores": {"small-model": cheap, "big-model": 1.0},
                "costs": {"small-model": 0.0001, "big-model": 0.005},
            }
        )
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def train_artifact(root: Path, name: str, *, cheap_is_always_right: bool = False) -> Path:
    """A kNN router over ``small-model`` and ``big-model`` saved under ``root/name``."""
    root.mkdir(parents=True, exist_ok=True)
    table_path = root / f"{name}.jsonl"
    write_table(table_path, cheap_is_always_right=cheap_is_always_right)
    model = train_routing_model(
        "knn", load_routing_table(table_path), embedder_config=HashingEmbedderConfig(dim=256), seed=0
    )
    return save_router(model, root / name)
