"""What ``--strategy auto`` chooses from, and the rule it chooses by.

The candidates are (router family, embedder, extra features, hyperparameters). The baseline is the
plain one: per-model ridge regression on hashed TF-IDF n-grams (``linear``; its penalty is chosen on
a holdout by the routing metric, which also sets the cost trade-off scale it is calibrated to) with
no extra features. Every candidate is scored on the same inner folds; a candidate replaces the
baseline only when its mean paired gain over the baseline is at least ``margin`` *and* larger than
:data:`SE_MULTIPLE` standard errors of that gain across the folds. So the chosen router is never
below the baseline on the inner folds' mean, and a noisy win does not displace it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import msgspec
import numpy as np

BASELINE = "baseline"
DEFAULT_MARGIN = 0.005
SE_MULTIPLE = 2.0
# Two-sided 95% Student t quantiles by degrees of freedom (folds - 1).
_T95: Mapping[int, float] = MappingProxyType(
    {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}
)


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """One configuration the selection tries.

    Attributes:
        name: Unique label in the selection report.
        kind: Router family (``train_router`` kind).
        embedder: ``hashing`` or the name of a ready embedder passed to the selection.
        features: Append prompt features (and the task prior when the table has tasks).
        hyper: Hyperparameters for the family's trainer (omitted ones are tuned by it).
    """

    name: str
    kind: str
    embedder: str = "hashing"
    features: bool = False
    hyper: dict[str, Any] = msgspec.field(default_factory=dict)


BASELINE_CANDIDATE = Candidate(name=BASELINE, kind="linear")


class CandidateScore(msgspec.Struct, frozen=True, kw_only=True):
    """A candidate's inner cross-validation result.

    Attributes:
        candidate: The configuration.
        fold_scores: The metric on each inner fold.
        mean: Their mean.
        low: Lower end of the 95% t interval of the mean over folds.
        high: Upper end.
        gain: Mean paired gain over the baseline (same folds).
        gain_se: Standard error of that gain across folds.
        eligible: Whether it beats the baseline by the selection rule.
        seconds: Time spent training and scoring it on all inner folds.
    """

    candidate: Candidate
    fold_scores: tuple[float, ...]
    mean: float
    low: float
    high: float
    gain: float
    gain_se: float
    eligible: bool
    seconds: float


class SelectionReport(msgspec.Struct, frozen=True, kw_only=True):
    """What the selection tried and why it chose what it chose (saved in the artifact).

    Attributes:
        metric: ``apgr`` (two models) or ``aiq`` (more).
        inner_folds: Inner cross-validation folds.
        margin: Minimum mean gain over the baseline.
        models: Candidate models after dropping dominated ones.
        dropped_models: Dominated models removed before training (never routed to).
        candidates: Every candidate's scores, best first.
        winner: The chosen candidate's name.
        reason: One sentence on why.
        skipped: Candidates or embedders not tried, with the reason.
    """

    metric: str
    inner_folds: int
    margin: float
    models: tuple[str, ...]
    dropped_models: tuple[str, ...]
    candidates: tuple[CandidateScore, ...]
    winner: str
    reason: str
    skipped: tuple[str, ...] = ()

    def chosen(self) -> Candidate:
        """The winning candidate (the baseline when nothing was scored)."""
        found = [c.candidate for c in self.candidates if c.candidate.name == self.winner]
        return found[0] if found else BASELINE_CANDIDATE


def default_grid(embedders: Sequence[str] = ("hashing",), *, has_tasks: bool = True) -> tuple[Candidate, ...]:
    """The bounded default search: the baseline plus a few families with and without extra features.

    The first embedder gets the full grid; every further one (slower to embed, e.g. MiniLM) only the
    families that did best in earlier measurements.
    """
    out = [BASELINE_CANDIDATE]
    for position, emb in enumerate(embedders):
        tag = "" if emb == "hashing" else f"@{emb}"
        if emb != "hashing":
            out.append(Candidate(name=f"linear{tag}", kind="linear", embedder=emb))
        out.append(Candidate(name=f"linear+features{tag}", kind="linear", embedder=emb, features=True))
        out.append(
            Candidate(name=f"knn100+features{tag}", kind="knn", embedder=emb, features=True, hyper=dict(_KNN))
        )
        if position > 0:
            continue
        out.append(Candidate(name="knn100", kind="knn", hyper=dict(_KNN)))
        out.append(Candidate(name="knn30+features", kind="knn", features=True, hyper={**_KNN, "k": 30}))
        out.append(Candidate(name="mlp", kind="mlp"))
        out.append(Candidate(name="mlp+features", kind="mlp", features=True))
        if has_tasks:
            out.append(
                Candidate(name="best_per_task", kind="best_per_task", hyper={"classifier": "centroid"})
            )
    return tuple(out)


_KNN: Mapping[str, Any] = MappingProxyType({"k": 100, "power": 4.0, "prior": 1.0, "base": "mean"})


def interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95% t interval over folds."""
    arr = np.asarray(values, dtype=np.float64)
    mean = float(arr.mean())
    if len(arr) < 2:
        return mean, mean, mean
    half = _T95.get(len(arr) - 1, 1.96) * float(arr.std(ddof=1)) / float(np.sqrt(len(arr)))
    return mean, mean - half, mean + half


def score_candidates(
    fold_scores: Mapping[str, Sequence[float]],
    candidates: Sequence[Candidate],
    seconds: Mapping[str, float],
    margin: float,
) -> tuple[CandidateScore, ...]:
    """Summarise each candidate against the baseline's folds (paired); sorted best mean first."""
    base = np.asarray(fold_scores[BASELINE], dtype=np.float64)
    out = []
    for cand in candidates:
        scores = np.asarray(fold_scores[cand.name], dtype=np.float64)
        finite = bool(np.all(np.isfinite(scores)) and np.all(np.isfinite(base)))
        diff = scores - base if finite else np.zeros_like(scores)
        gain = float(diff.mean()) if finite else float("nan")
        se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
        mean, low, high = interval(scores.tolist())
        eligible = cand.name != BASELINE and finite and gain >= margin and gain > SE_MULTIPLE * se
        out.append(
            CandidateScore(
                candidate=cand,
                fold_scores=tuple(float(s) for s in scores),
                mean=mean,
                low=low,
                high=high,
                gain=gain,
                gain_se=se,
                eligible=eligible,
                seconds=float(seconds.get(cand.name, 0.0)),
            )
        )
    return tuple(sorted(out, key=lambda s: (-s.mean if np.isfinite(s.mean) else np.inf, s.candidate.name)))


def choose(scored: Sequence[CandidateScore], margin: float) -> tuple[str, str]:
    """The winner's name and the reason: the best eligible candidate, else the baseline."""
    eligible = [s for s in scored if s.eligible]
    base = next(s for s in scored if s.candidate.name == BASELINE)
    if not eligible:
        return BASELINE, (
            f"no candidate beat the baseline ({base.mean:.4f}) by at least {margin:g} and {SE_MULTIPLE:g} "
            "standard errors of the paired gain over the inner folds; the baseline is kept"
        )
    best = max(eligible, key=lambda s: (s.mean, -s.seconds))
    return best.candidate.name, (
        f"{best.candidate.name} scored {best.mean:.4f} against the baseline's {base.mean:.4f} "
        f"(paired gain {best.gain:+.4f}, standard error {best.gain_se:.4f}, margin {margin:g})"
    )
