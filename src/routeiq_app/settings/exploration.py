"""Exploration settings (``routing.exploration``): collecting full-information routing data."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from routeiq_app.settings.base import NonNegativeFloat, PositiveFloat, PositiveInt, _Section


class ExplorationSettings(_Section, frozen=True):
    """For a share of a routed name's calls, also ask the other candidates and score every answer."""

    enabled: Annotated[bool, Meta(description="Explore (opt-in: exploration calls cost money).")] = False
    share: Annotated[
        float, Meta(ge=0, le=1, description="Share of the calls to routed names that are explored.")
    ] = 0.05
    daily_cost_cap: Annotated[
        NonNegativeFloat, Meta(description="Most one worker spends on exploration calls per UTC day (USD).")
    ] = 1.0
    scorer: Annotated[
        Literal["heuristic", "judge", "function"],
        Meta(
            description="How answers are scored: the evaluator's `heuristic`, an LLM `judge` "
            "(`judge_deployment`), or a user's `function` (`scorer_function`)."
        ),
    ] = "heuristic"
    judge_deployment: Annotated[
        str | None, Meta(description="Deployment id of the judge model (`scorer: judge`).")
    ] = None
    scorer_function: Annotated[
        str | None,
        Meta(
            description="`package.module:function` taking (prompt, model_group, answer_text) and "
            "returning a quality in [0, 1] (sync or async) (`scorer: function`)."
        ),
    ] = None
    off_policy: Annotated[
        bool,
        Meta(description="Also keep a row for calls not explored (only the chosen model scored)."),
    ] = True
    dataset_dir: Annotated[
        str, Meta(description="Where rows are kept: `<router>.jsonl` (full) and `.offpolicy.jsonl`.")
    ] = "routeiq-routing-data"
    concurrency: Annotated[PositiveInt, Meta(description="Exploration calls in flight per worker.")] = 4
    timeout_s: Annotated[PositiveFloat, Meta(description="Longest one exploration call may take.")] = 60.0

    def __post_init__(self) -> None:
        if self.scorer == "judge" and not self.judge_deployment:
            raise ValueError("judge_deployment is required when scorer is judge")
        if self.scorer == "function" and (not self.scorer_function or ":" not in self.scorer_function):
            raise ValueError("scorer_function (package.module:function) is required when scorer is function")
