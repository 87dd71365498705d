"""A small synthetic routing table with a clear signal: each topic has one model that answers it well."""

from __future__ import annotations

import numpy as np

from routeiq_core.routing.learned import RoutingRow, RoutingTable, table_from_rows

TOPICS = (
    (
        "algebra",
        "alpha-7b",
        ("integral", "derivative", "equation", "polynomial", "matrix", "theorem", "prime"),
    ),
    ("history", "beta-70b", ("empire", "treaty", "dynasty", "revolution", "medieval", "colonial", "war")),
    ("cooking", "gamma-mini", ("recipe", "oven", "flour", "simmer", "garlic", "butter", "saute")),
)
MODELS = ("alpha-7b", "beta-70b", "gamma-mini")
PRICES = {"alpha-7b": 1.0, "beta-70b": 4.0, "gamma-mini": 0.5}
FILLER = ("please", "explain", "the", "question", "about", "some", "this", "what", "how", "why")


def synthetic_rows(n: int, seed: int = 0) -> list[RoutingRow]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        task, good, words = TOPICS[i % len(TOPICS)]
        picked = [str(w) for w in rng.choice(words, size=4)] + [str(w) for w in rng.choice(FILLER, size=3)]
        rng.shuffle(picked)
        prompt = " ".join(picked) + "?"
        scores = {m: float(rng.random() < (0.9 if m == good else 0.2)) for m in MODELS}
        costs = {m: PRICES[m] * (len(prompt) / 4 + 200) / 1e6 for m in MODELS}
        rows.append(RoutingRow(id=f"syn-{i}", prompt=prompt, task=task, scores=scores, costs=costs))
    return rows


def synthetic_table(n: int = 300, seed: int = 0) -> RoutingTable:
    return table_from_rows(synthetic_rows(n, seed), source="synthetic")


def best_model_per_row(table: RoutingTable) -> np.ndarray:
    """Index of the topic's good model per row."""
    good = {task: MODELS.index(model) for task, model, _ in TOPICS}
    return np.array([good[t] for t in table.tasks])
