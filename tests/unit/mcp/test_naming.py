"""Exposed names: prefixes, deterministic shortening to 64 characters, collisions, reverse lookup."""

from __future__ import annotations

import re

import pytest

from routeiq_core.mcp import NameMap, exposed_name, exposed_uri, server_of, slug_problem, split_uri

PROVIDER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@pytest.mark.parametrize("slug", ["a", "github", "my-server-01", "x" * 16])
def test_good_slugs(slug: str) -> None:
    assert slug_problem(slug) is None


@pytest.mark.parametrize("slug", ["", "GitHub", "under_score", "x" * 17, "dot.ted", "a b"])
def test_bad_slugs_say_why(slug: str) -> None:
    problem = slug_problem(slug)
    assert problem is not None
    assert "1 to 16" in problem


def test_short_names_are_prefixed_as_they_are() -> None:
    assert exposed_name("github", "search_issues") == "github__search_issues"
    assert exposed_name("github", "search_issues", prefixed=False) == "search_issues"


def test_long_names_are_shortened_to_64_with_a_stable_hash() -> None:
    long = "create_or_update_repository_file_contents_with_commit_message_and_branch"
    first = exposed_name("github", long)
    assert len(first) == 64
    assert PROVIDER_NAME.match(first)
    assert first.startswith("github__create_or_update")
    assert first == exposed_name("github", long)  # every worker computes the same name
    assert first != exposed_name("gitlab", long)
    assert first != exposed_name("github", long + "_v2")


def test_names_with_characters_providers_refuse_are_cleaned_and_hashed() -> None:
    dotted = exposed_name("fs", "read.file")
    assert PROVIDER_NAME.match(dotted)
    assert dotted.startswith("fs__read_file_")
    assert dotted != exposed_name("fs", "read_file")  # no silent merge with a real read_file


def test_a_name_map_resolves_exposed_names_back() -> None:
    long = "t" * 80
    names = NameMap([("a", "echo"), ("b", "echo"), ("a", long)])
    assert names.resolve("a__echo") == ("a", "echo")
    assert names.resolve("b__echo") == ("b", "echo")
    assert names.resolve(exposed_name("a", long)) == ("a", long)
    assert names.resolve("c__echo") is None
    assert len(names) == 3


def test_a_collision_is_settled_the_same_way_whatever_the_order() -> None:
    long = "t" * 80
    imitation = exposed_name("a", long).removeprefix("a__")  # an upstream tool named like the short form
    one = NameMap([("a", long), ("a", imitation)])
    two = NameMap([("a", imitation), ("a", long)])
    assert one.resolve(exposed_name("a", long)) == two.resolve(exposed_name("a", long))
    assert len(one) == len(two) == 1
    kept = one.resolve(exposed_name("a", long))
    assert kept is not None
    dropped = long if kept[1] == imitation else imitation
    assert one.exposed("a", dropped) is None


def test_unprefixed_maps_for_single_upstream_mode() -> None:
    names = NameMap([("only", "echo")], prefixed=False)
    assert names.resolve("echo") == ("only", "echo")
    assert names.exposed("only", "echo") == "echo"


def test_resource_uris_carry_their_server() -> None:
    assert exposed_uri("docs", "file:///a.md") == "docs+file:///a.md"
    assert split_uri("docs+file:///a.md", ["docs"]) == ("docs", "file:///a.md")
    assert split_uri("other+file:///a.md", ["docs"]) is None
    assert split_uri("file:///a.md", ["docs"]) is None
    assert split_uri("file:///a.md", ["docs"], single="docs") == ("docs", "file:///a.md")


def test_server_of_reads_the_prefix() -> None:
    assert server_of("github__search", ["github"]) == "github"
    assert server_of("github__", ["github"]) is None
    assert server_of("gitlab__search", ["github"]) is None
