"""``--strategy auto``: the selection rule, the fallback to the baseline and the dominated-model filter."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from routeiq_core.routing.learned import (
    Candidate,
    HashingEmbedderConfig,
    RoutingRow,
    RoutingTable,
    default_grid,
    dominated_models,
    drop_dominated,
    load_router,
    read_metadata,
    save_router,
    select_strategy,
    table_from_rows,
    train_auto,
)
from routeiq_core.routing.learned.auto_fit import predict_table
from routeiq_core.routing.learned.selection import BASELINE, choose, score_candidates
from tests.unit.routing.learned.synthetic import synthetic_table

CONFIG = HashingEmbedderConfig(dim=64)
SMALL_GRID = (
    Candidate(name=BASELINE, kind="linear"),
    Candidate(name="linear+features", kind="linear", features=True),
    Candidate(name="knn", kind="knn", hyper={"k": 10, "power": 4.0, "prior": 1.0, "base": "mean"}),
)


def keyword_table(n: int = 300, seed: int = 3) -> RoutingTable:
    """Two models; the strong one pays off only on prompts with the word "tough": a linear rule on words.

    A ridge over hashed n-grams (the baseline) captures it fully, so no candidate can beat it by a margin.
    """
    rng = np.random.default_rng(seed)
    words = ("alpha", "ultra", "gamma", "delta", "omega", "sigma", "theta", "kappa")  # all five letters
    rows = []
    for i in range(n):
        picked = [str(w) for w in rng.choice(words, size=int(rng.integers(3, 9)))]
        hard = i % 2 == 0
        prompt = " ".join([*picked[1:], "tough"] if hard else picked)  # same length either way
        strong = float(rng.random() < (0.9 if hard else 0.6))
        weak = float(rng.random() < (0.2 if hard else 0.6))
        scores = {"strong": strong, "weak": weak}
        costs = {"strong": 1e-3, "weak": 1e-4}
        rows.append(RoutingRow(id=f"n{i}", prompt=prompt, task=f"t{i % 3}", scores=scores, costs=costs))
    return table_from_rows(rows)


def test_a_candidate_must_beat_the_baseline_by_the_margin_and_one_standard_error() -> None:
    grid = [
        Candidate(name=BASELINE, kind="linear"),
        Candidate(name="steady", kind="mlp"),
        Candidate(name="noisy", kind="knn"),
        Candidate(name="tiny", kind="linear", features=True),
    ]
    folds = {
        BASELINE: [0.60, 0.62, 0.61],
        "steady": [0.63, 0.645, 0.635],  # +0.025 every fold
        "noisy": [0.75, 0.50, 0.70],  # higher mean, but the gain is within two standard errors
        "tiny": [0.602, 0.622, 0.612],  # consistent but below the margin
    }
    scored = score_candidates(folds, grid, {}, margin=0.005)
    by_name = {s.candidate.name: s for s in scored}
    assert by_name["steady"].eligible
    assert not by_name["noisy"].eligible
    assert not by_name["tiny"].eligible
    assert not by_name[BASELINE].eligible
    assert by_name["steady"].low < by_name["steady"].mean < by_name["steady"].high
    winner, reason = choose(scored, 0.005)
    assert winner == "steady"
    assert "steady" in reason
    # Without the steady candidate, nothing qualifies and the baseline is kept.
    folds.pop("steady")
    rest = score_candidates(folds, [g for g in grid if g.name != "steady"], {}, margin=0.005)
    assert choose(rest, 0.005)[0] == BASELINE


def test_selection_keeps_the_baseline_when_nothing_beats_it() -> None:
    table = keyword_table()
    report = select_strategy(table, embedder_config=CONFIG, candidates=SMALL_GRID, folds=3, seed=0)
    assert report.winner == BASELINE
    assert "baseline is kept" in report.reason
    base = next(s for s in report.candidates if s.candidate.name == BASELINE)
    chosen = next(s for s in report.candidates if s.candidate.name == report.winner)
    assert chosen.mean >= base.mean  # never worse than the baseline on the inner folds
    assert {s.candidate.name for s in report.candidates} == {c.name for c in SMALL_GRID}
    assert all(len(s.fold_scores) == 3 for s in report.candidates)


def test_the_chosen_router_is_never_below_the_baseline_on_inner_folds() -> None:
    for seed in range(2):
        table = synthetic_table(120, seed=seed)
        report = select_strategy(table, embedder_config=CONFIG, candidates=SMALL_GRID, folds=3, seed=seed)
        scores = {s.candidate.name: s for s in report.candidates}
        assert scores[report.winner].mean >= scores[BASELINE].mean
        if report.winner != BASELINE:
            assert scores[report.winner].gain >= report.margin


def test_the_baseline_is_added_to_a_grid_that_lacks_it() -> None:
    grid = [c for c in SMALL_GRID if c.name != BASELINE]
    report = select_strategy(synthetic_table(120), embedder_config=CONFIG, candidates=grid, folds=2)
    assert BASELINE in {s.candidate.name for s in report.candidates}


def test_default_grid_has_the_baseline_and_bounded_size() -> None:
    grid = default_grid(("hashing", "minilm"))
    assert grid[0].name == BASELINE
    assert grid[0].kind == "linear"
    assert not grid[0].features
    assert len({c.name for c in grid}) == len(grid)
    assert len(grid) <= 12
    assert "best_per_task" not in {c.name for c in default_grid(has_tasks=False)}
    assert any(c.embedder == "minilm" for c in grid)


def test_unavailable_embedders_are_skipped_and_reported() -> None:
    grid = (*SMALL_GRID, Candidate(name="linear@minilm", kind="linear", embedder="minilm"))
    report = select_strategy(synthetic_table(90), embedder_config=CONFIG, candidates=grid, folds=2)
    assert "linear@minilm" not in {s.candidate.name for s in report.candidates}
    assert any("linear@minilm" in s for s in report.skipped)


def dominated_table(n: int = 150) -> RoutingTable:
    """The synthetic three models priced in order of their mean quality (none dominated), plus two more.

    ``dud`` is worse than every model and dearer than the cheapest; ``twin`` is the best model with a
    few answers spoiled, at a higher price. Both are worse and dearer than another model: dominated.
    """
    base = synthetic_table(n)
    order = np.argsort(base.scores.mean(axis=0))  # worst first
    price = np.empty(3)
    price[order] = [1e-4, 2e-4, 4e-4]
    best = int(order[-1])
    twin = base.scores[:, best].copy()
    twin[:10] = 0.0
    costs = np.hstack([np.tile(price, (n, 1)), np.full((n, 1), 2e-4), np.full((n, 1), 6e-4)])
    scores = np.hstack([base.scores, np.zeros((n, 1)), twin[:, None]])
    return RoutingTable(
        ids=base.ids,
        prompts=base.prompts,
        tasks=base.tasks,
        models=(*base.models, "dud", "twin"),
        scores=scores,
        costs=costs,
    )


def test_dominated_models_are_found() -> None:
    scores = np.array([[0.9, 0.5, 0.4, 0.5, 0.9, 0.3], [0.7, 0.5, 0.4, 0.5, 0.8, 0.3]])
    costs = np.array([[1.0, 0.1, 0.2, 0.1, 0.5, 0.1], [1.0, 0.1, 0.2, 0.1, 0.5, 0.1]])
    # 0 is worse and dearer than 4; 2 than 1. 1 and 3 are identical (neither dominates the other);
    # 5 is worse than 1 at the same cost: not dearer, so it is kept.
    assert dominated_models(scores, costs) == (0, 2)
    assert dominated_models(scores[:, [1, 3]], costs[:, [1, 3]]) == ()
    table = dominated_table()
    kept, dropped = drop_dominated(table)
    assert dropped == ("dud", "twin")
    assert kept.models == table.models[:3]
    np.testing.assert_array_equal(kept.scores, table.scores[:, :3])


def test_auto_never_routes_into_a_dominated_model(tmp_path: Path) -> None:
    table = dominated_table()
    model = train_auto(table, embedder_config=CONFIG, candidates=SMALL_GRID, folds=2)
    assert set(model.models) == set(table.models[:3])
    selection = model.metadata["selection"]
    assert isinstance(selection, dict)
    assert list(selection["dropped_models"]) == ["dud", "twin"]
    for weight in (0.0, 1e2, 1e4, 1e6):
        assert {"dud", "twin"}.isdisjoint(model.choose(list(table.prompts), weight))
    predicted = predict_table(model, table)
    assert np.isneginf(predicted[:, 3:]).all()
    meta = read_metadata(save_router(model, tmp_path / "auto"))
    assert meta.extra["strategy"] == "auto"
    assert meta.extra["selection"]["winner"] == selection["winner"]
    assert meta.extra["selection"]["candidates"][0]["fold_scores"]
    loaded = load_router(tmp_path / "auto")
    np.testing.assert_allclose(loaded.predict(table.prompts[:5]), model.predict(table.prompts[:5]), atol=1e-6)


def test_one_model_dominating_all_others_needs_no_selection() -> None:
    base = synthetic_table(60)
    scores = np.hstack([np.ones((60, 1)), base.scores[:, :2] * 0.5])
    costs = np.hstack([base.costs[:, [2]] * 0.5, base.costs[:, :2]])
    table = RoutingTable(
        ids=base.ids,
        prompts=base.prompts,
        tasks=base.tasks,
        models=("best", "b", "c"),
        scores=scores,
        costs=costs,
    )
    model = train_auto(table, embedder_config=CONFIG, candidates=SMALL_GRID)
    assert model.models == ("best",)
    assert model.choose(["anything"], 0.0) == ["best"]
    assert "nothing to select" in str(model.metadata["selection"]["reason"])  # type: ignore[index]
