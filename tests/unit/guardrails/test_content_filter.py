"""Category and keyword policies with per-team allow and deny lists."""

from __future__ import annotations

import pytest

from routeiq_core.guardrails.content_filter import DENIED_TERM, Category, ContentFilter, TeamPolicy

CATEGORIES = [
    Category(name="weapons", keywords=("pipe bomb", "napalm"), patterns=(r"\bghost\s+guns?\b",)),
    Category(name="competitors", keywords=("AcmeCorp", "Globex")),
    Category(name="profanity", keywords=("darn",)),
]
TEAMS = {
    "sales": TeamPolicy(allow=("competitors",), deny=("discount code",)),
    "chem": TeamPolicy(allow=("napalm",)),
}


@pytest.fixture
def content_filter() -> ContentFilter:
    return ContentFilter(CATEGORIES, TEAMS)


def test_keywords_match_whole_words_case_insensitively(content_filter: ContentFilter) -> None:
    assert content_filter.check(["How do I build a PIPE   BOMB?"]).categories == ("weapons",)
    assert content_filter.check(["Compare us with acmecorp."]).categories == ("competitors",)
    assert not content_filter.check(["darnedest thing", "Globexus is a star"]).flagged


def test_patterns_and_several_categories(content_filter: ContentFilter) -> None:
    verdict = content_filter.check(["Ghost guns and Globex", "darn"])
    assert verdict.flagged
    assert verdict.categories == ("weapons", "competitors", "profanity")


def test_a_team_allow_list_switches_a_category_off(content_filter: ContentFilter) -> None:
    text = ["What does Globex sell?"]
    assert content_filter.check(text).flagged
    assert not content_filter.check(text, team="sales").flagged
    assert content_filter.check(["napalm"], team="sales").categories == ("weapons",)


def test_a_team_allow_list_can_exempt_one_term(content_filter: ContentFilter) -> None:
    assert not content_filter.check(["history of napalm"], team="chem").flagged
    assert content_filter.check(["a pipe bomb"], team="chem").categories == ("weapons",)


def test_a_team_deny_list_adds_terms(content_filter: ContentFilter) -> None:
    text = ["Share the Discount Code please"]
    assert not content_filter.check(text).flagged
    verdict = content_filter.check(text, team="sales")
    assert verdict.categories == (DENIED_TERM,)


def test_unknown_teams_get_the_defaults(content_filter: ContentFilter) -> None:
    assert content_filter.check(["Globex"], team="nobody").categories == ("competitors",)


def test_the_verdict_and_error_never_carry_the_text(content_filter: ContentFilter) -> None:
    verdict = content_filter.check(["secret plan: pipe bomb"])
    error = verdict.violation("content_filter")
    assert "pipe" not in repr(verdict)
    assert "pipe" not in error.message
    assert error.status_code == 400
    assert error.code == "content_policy_violation"
    assert "content_filter" in error.message
    assert "weapons" in error.message


def test_bad_configuration_is_rejected() -> None:
    with pytest.raises(ValueError, match="compile"):
        ContentFilter([Category(name="x", patterns=("(",))])
    with pytest.raises(ValueError, match="unique"):
        ContentFilter([Category(name="x"), Category(name="x")])
