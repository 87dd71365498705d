"""``routeiq eval --plot``: the router's curve beside the random line, singles, oracle and baselines.

The chart is titled with the table and the strategy. Two models: quality against the share of
strong-model calls; the random line joins the two models (calling the strong one at random for that
share of prompts). More models: quality against mean cost per prompt (log scale); the random line is
the upper hull of the single models (mixing whole models at random). The oracle quality (the best
model for every prompt) is a dotted line; baselines are thin and dashed, routers thick.
"""

from __future__ import annotations

from pathlib import Path

from routeiq_core.routing.learned.report import EvaluationReport, SingleModel

BASELINES = frozenset({"random", "cheapest", "best_single", "oracle", "best_per_task"})
"""The baselines an evaluation reports beside the routers (drawn thin and dashed)."""


def random_line(report: EvaluationReport) -> list[tuple[float, float]]:
    """The random-routing line: two models by strong share, more by cost (the singles' upper hull)."""
    singles = sorted(report.singles, key=lambda s: (s.cost, -s.quality))
    if len(report.models) == 2:
        weak, strong = singles
        return [(0.0, weak.quality), (1.0, strong.quality)]
    hull: list[SingleModel] = []
    for single in singles:
        if hull and single.quality <= hull[-1].quality:
            continue  # dominated: dearer and no better
        while len(hull) >= 2 and _below(hull[-2], hull[-1], single):
            hull.pop()
        hull.append(single)
    return [(s.cost, s.quality) for s in hull]


def _below(a: SingleModel, b: SingleModel, c: SingleModel) -> bool:
    """Whether ``b`` lies on or under the segment from ``a`` to ``c`` (so it is off the upper hull)."""
    return (b.quality - a.quality) * (c.cost - a.cost) <= (c.quality - a.quality) * (b.cost - a.cost)


def plot_report(report: EvaluationReport, path: Path, strategy: str) -> list[str]:
    """Draw the report to a PNG at ``path``; returns the legend's labels."""
    import matplotlib  # only `--plot` needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    two = len(report.models) == 2
    names = {router.name for router in report.routers}
    for router in report.routers:
        curve = router.strong_share_curve if two else router.cost_quality_curve
        if curve:
            xs, ys = zip(*curve, strict=True)
            trained = router.name not in BASELINES
            ax.plot(
                xs,
                ys,
                label=router.name,
                linewidth=2.2 if trained else 1.0,
                linestyle="-" if trained else "--",
            )
    if "random" not in names:  # the random baseline's own curve, when the report has none
        xs, ys = zip(*random_line(report), strict=True)
        ax.plot(xs, ys, color="grey", linestyle=":", label="random")
    for single in report.singles:
        x = (1.0 if single is _strongest(report) else 0.0) if two else single.cost
        ax.scatter([x], [single.quality], marker="x", color="black", zorder=3)
        ax.annotate(single.model, (x, single.quality), fontsize=7, textcoords="offset points", xytext=(3, 3))
    ax.axhline(report.oracle_quality, color="green", linestyle=":", linewidth=1.0, label="oracle quality")
    if not two:
        ax.set_xscale("log")
    ax.set_xlabel("share of strong-model calls" if two else "mean cost per prompt (USD)")
    ax.set_ylabel("mean quality")
    ax.set_title(f"{Path(report.table).name} — {strategy}", fontsize=10)
    ax.legend(fontsize=7)
    legend = ax.get_legend()
    labels = [text.get_text() for text in legend.get_texts()] if legend is not None else []
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return labels


def _strongest(report: EvaluationReport) -> SingleModel:
    return max(report.singles, key=lambda s: s.cost)
