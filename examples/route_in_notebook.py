"""Train, evaluate and query a learned router with ``routeiq_core`` alone: no server, no faiss.

Run it as a script (or paste the cells into a notebook)::

    python examples/route_in_notebook.py                      # a 2,000-prompt slice of the MMLU table
    python examples/route_in_notebook.py path/to/table.jsonl --rows 0   # any table, all rows
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from routeiq_core.routing.learned import (
    HashingEmbedderConfig,
    calibrate_threshold,
    evaluate_with_baselines,
    load_router,
    load_routing_table,
    save_router,
    train_routing_model,
    train_test_split,
    training_data,
)

DEFAULT_TABLE = Path(__file__).resolve().parents[1].parent / "shared" / "routing-data" / "mmlu-2model.jsonl"

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("table", nargs="?", default=str(DEFAULT_TABLE), help="routing table (.jsonl)")
parser.add_argument("--rows", type=int, default=2000, help="evenly spaced rows to use (0: all)")
parser.add_argument("--strategy", default="knn", help="router kind (knn, best_per_task, linear, mlp, ...)")
args = parser.parse_args()

# %% 1. Load a routing table: one row per prompt, every model's score and cost.
table = load_routing_table(args.table)
if args.rows and args.rows < len(table):
    table = table.subset(np.linspace(0, len(table) - 1, args.rows).astype(int))
print(f"{len(table)} prompts, models: {', '.join(table.models)}")

# %% 2. Hold out 20% of the prompts; everything below is fitted on the other 80% only.
train_rows, test_rows = train_test_split(len(table), test_fraction=0.2, seed=0)
train, test = table.subset(train_rows), table.subset(test_rows)

# %% 3. Train: a hashing embedder (numpy only, no download), the router, and a per-model cost model.
model = train_routing_model(args.strategy, train, embedder_config=HashingEmbedderConfig(dim=512), seed=0)
settings = {k: v for k, v in model.router.hyperparameters().items() if k != "base"}
print(f"trained a {model.router.kind} router: {settings}")

# %% 4. Evaluate on the held-out prompts against the baselines, with bootstrap 95% intervals.
report = evaluate_with_baselines("router", model.predict(test.prompts), test, bootstrap_rounds=200)
for router in report.routers:
    keys = (
        ("apgr", "cpt50", "aiq") if len(table.models) == 2 else ("aiq", "best_quality", "oracle_gap_closed")
    )
    print(f"  {router.name:12s} " + "  ".join(f"{k}={router.metrics[k]}" for k in keys))

# %% 5. Route new prompts; the cost weight (lambda) trades predicted quality against estimated cost.
prompts = [
    "What is the capital of Australia?\nA. Sydney\nB. Canberra\nC. Melbourne\nD. Perth\nAnswer:",
    "Let G be a group of order 15. Which statement about G must be true?\nA. G is cyclic\nB. G is simple\n"
    "C. G has an element of order 9\nD. G is non-abelian\nAnswer:",
]
for weight in (0.0, 10.0, 1000.0):
    print(f"cost weight {weight:>6}: {model.choose(prompts, cost_weight=weight)}")
decision = model.route(prompts[:1])[0]
print(
    "per-model predictions:",
    {m: round(q, 3) for m, q in zip(decision.models, decision.predicted_quality, strict=True)},
)

# %% 6. Two models: call the strong model for a fixed share of traffic (threshold set on training data).
if len(table.models) == 2:
    data = training_data(train, model.embedder)
    threshold = calibrate_threshold(model.router, data, target_strong_share=0.3)
    share = threshold.strong_calls(model.embedder.embed(test.prompts)).mean()
    print(
        f"threshold {threshold.threshold:+.4f} sends {share:.0%} of held-out prompts "
        f"to {threshold.models[threshold.strong]}"
    )

# %% 7. Save as a verified artifact and load it back (what `routeiq route --router DIR` does).
with tempfile.TemporaryDirectory() as tmp:
    save_router(model, Path(tmp) / "router")
    again = load_router(Path(tmp) / "router")
    assert np.allclose(again.predict(prompts), model.predict(prompts))
    print(f"artifact round trip ok: {sorted(p.name for p in (Path(tmp) / 'router').iterdir())}")
