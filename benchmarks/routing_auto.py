"""Nested evaluation of ``--strategy auto``: outer k-fold CV, the selection re-run inside every outer fold.

For each outer fold, ``train_auto`` sees only the fold's training part (its inner CV chooses the
router there), and the chosen router, the baseline and a fixed strategy are scored on the fold's test
part with the same bootstrap resamples. ``--split task`` holds out whole tasks instead (every test
prompt's task is absent from training): a proxy for a table nobody tuned on.

    python benchmarks/routing_auto.py --data ../shared/routing-data/mmlu-2model.jsonl --sample 4000
    python benchmarks/routing_auto.py --data ../shared/routing-data/llmrouter-9model-train.jsonl --split task
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from routeiq_core.routing.learned import HashingEmbedder, HashingEmbedderConfig, k_fold, load_routing_table
from routeiq_core.routing.learned.auto import train_auto
from routeiq_core.routing.learned.auto_fit import fit_candidate, predict_table
from routeiq_core.routing.learned.data import IntArray, RoutingTable
from routeiq_core.routing.learned.dominance import drop_dominated
from routeiq_core.routing.learned.report import mean_samples, metric_samples, sample_weights, summarise
from routeiq_core.routing.learned.selection import BASELINE_CANDIDATE
from routeiq_core.routing.learned.train import train_routing_model

TWO = ("apgr", "cpt50", "cpt80", "aiq")
MANY = ("oracle_gap_closed", "cost_share_to_match_best", "aiq", "best_quality")


def task_folds(table: RoutingTable, k: int, seed: int) -> list[tuple[IntArray, IntArray]]:
    """Folds that hold out whole tasks (tasks shuffled, then dealt round-robin by size)."""
    names = sorted(set(table.tasks))
    if len(names) < k:
        raise SystemExit(f"--split task needs at least {k} tasks, the table has {len(names)}")
    order = list(np.random.default_rng(seed).permutation(names))
    groups: list[list[str]] = [[] for _ in range(k)]
    sizes = [0] * k
    counts = {t: table.tasks.count(t) for t in names}
    for task in sorted(order, key=lambda t: -counts[t]):
        smallest = int(np.argmin(sizes))
        groups[smallest].append(task)
        sizes[smallest] += counts[task]
    tasks = np.asarray(table.tasks, dtype=object)
    out = []
    for group in groups:
        test = np.flatnonzero(np.isin(tasks, group))
        out.append((np.setdiff1d(np.arange(len(table)), test), test))
    return out


def _fmt(name: str, value: float) -> str:
    if not np.isfinite(value):
        return "n/r"
    if name.startswith(("cpt", "cost_share", "oracle_gap")):
        return f"{100 * value:.1f}%"
    return f"{value:.3f}"


def _line(label: str, metrics: dict[str, object], keys: tuple[str, ...]) -> str:
    parts = []
    for key in keys:
        iv = metrics[key]
        est, low, high = iv.estimate, iv.low, iv.high  # type: ignore[attr-defined]
        parts.append(f"{key} {_fmt(key, est)} [{_fmt(key, low)}, {_fmt(key, high)}]")
    return f"  {label:<12} " + "  ".join(parts)


def run(args: argparse.Namespace) -> dict[str, object]:
    """Run the nested evaluation and print it; returns the JSON-ready summary."""
    table = load_routing_table(args.data)
    if args.sample and args.sample < len(table):
        table = table.subset(np.sort(np.random.default_rng(args.seed).permutation(len(table))[: args.sample]))
    keys = TWO if len(table.models) == 2 else MANY
    folds = (
        task_folds(table, args.outer, args.seed)
        if args.split == "task"
        else k_fold(len(table), args.outer, seed=args.seed)
    )
    config = HashingEmbedderConfig(dim=args.dim)
    samples: dict[str, list[dict[str, np.ndarray]]] = {}
    picks, fold_rows = [], []
    print(
        f"{args.data}: {len(table)} prompts x {len(table.models)} models, "
        f"{args.split} split, {args.outer} outer folds"
    )
    for number, (train_rows, test_rows) in enumerate(folds, start=1):
        began = time.monotonic()
        train, test = table.subset(train_rows), table.subset(test_rows)
        note = (lambda m: print(f"    {m}", file=sys.stderr, flush=True)) if args.verbose else None
        auto = train_auto(train, embedder_config=config, folds=args.inner, seed=args.seed, progress=note)
        kept, _ = drop_dominated(train)
        base = fit_candidate(
            BASELINE_CANDIDATE, kept, HashingEmbedder(config).fit(kept.prompts), seed=args.seed
        )
        predictions = {"auto": predict_table(auto, test), "baseline": predict_table(base, test)}
        if args.fixed:
            fixed = train_routing_model(args.fixed, train, embedder_config=config, seed=args.seed)
            predictions[f"fixed:{args.fixed}"] = fixed.predict(test.prompts)
        weights = sample_weights(len(test), args.bootstrap, args.seed + number)
        selection = auto.metadata["selection"]
        inner = {c["candidate"]["name"]: c["mean"] for c in selection["candidates"]}  # type: ignore[index]
        winner = str(selection["winner"])  # type: ignore[index]
        picks.append(winner)
        print(
            f"fold {number}: train {len(train)} test {len(test)}; picked {winner} "
            f"(inner {inner.get(winner, float('nan')):.4f} "
            f"vs baseline {inner.get('baseline', float('nan')):.4f}); "
            f"dropped {list(selection['dropped_models'])}; {time.monotonic() - began:.0f}s"  # type: ignore[index]
        )
        row: dict[str, object] = {"fold": number, "winner": winner, "inner": inner}
        for name, predicted in predictions.items():
            with np.errstate(invalid="ignore"):  # -inf columns of dropped models give nan pairs
                s = metric_samples(predicted, test.scores, test.costs, weights)
            samples.setdefault(name, []).append(s)
            summary = summarise(s)
            print(_line(name, summary, keys))
            row[name] = {k: summary[k].estimate for k in keys}
        fold_rows.append(row)
    print(f"mean over {len(folds)} outer folds (95% bootstrap interval of the fold mean):")
    overall = {}
    for name, per_fold in samples.items():
        summary = summarise(mean_samples(per_fold))
        print(_line(name, summary, keys))
        overall[name] = {k: [summary[k].estimate, summary[k].low, summary[k].high] for k in keys}
    return {
        "data": args.data,
        "prompts": len(table),
        "split": args.split,
        "picks": picks,
        "folds": fold_rows,
        "overall": overall,
    }


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", required=True, help="routing table (.jsonl)")
    parser.add_argument("--sample", type=int, default=0, help="random subsample of N prompts (0: all)")
    parser.add_argument("--split", choices=("random", "task"), default="random")
    parser.add_argument("--outer", type=int, default=5, help="outer folds (default 5)")
    parser.add_argument("--inner", type=int, default=3, help="inner folds of the selection (default 3)")
    parser.add_argument("--dim", type=int, default=1024, help="hashing embedder dimension")
    parser.add_argument("--fixed", default="knn", help="fixed strategy to compare ('' for none)")
    parser.add_argument("--bootstrap", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the summary as JSON")
    parser.add_argument("--verbose", action="store_true", help="inner-CV progress on stderr")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
