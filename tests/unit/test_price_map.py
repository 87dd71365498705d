"""LiteLLM's price map format: loading, skipping what is not a price, and looking up deployment models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from routeiq_adapters.pricing import LiteLLMPriceMap, ModelPrice, open_price_map
from routeiq_adapters.pricing.litellm_map import bundled_path
from routeiq_core.errors import ConfigurationError

MAP = {
    "sample_spec": {
        "input_cost_per_token": 0.0,
        "output_cost_per_token": 0.0,
        "max_input_tokens": "max input tokens, if the provider specifies it",
    },
    "gpt-4o": {
        "input_cost_per_token": 2.5e-06,
        "output_cost_per_token": 1e-05,
        "max_input_tokens": 128000,
        "litellm_provider": "openai",
        "mode": "chat",
    },
    "mistral/mistral-large-latest": {"input_cost_per_token": 5e-07, "output_cost_per_token": 1.5e-06},
    "mistral-large-latest": {"input_cost_per_token": 1, "output_cost_per_token": 1},
    "free": {"input_cost_per_token": 0, "output_cost_per_token": 0, "max_input_tokens": None},
    "text-price": {"input_cost_per_token": "0.1", "output_cost_per_token": 0.2},
    "no-output-price": {"input_cost_per_token": 1e-06, "mode": "image_generation"},
    "bool-price": {"input_cost_per_token": True, "output_cost_per_token": 1e-06},
    "negative": {"input_cost_per_token": -1e-06, "output_cost_per_token": 1e-06},
    "bad-window": {"input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06, "max_input_tokens": 1.5},
    "not-an-object": [1, 2],
}


@pytest.fixture
def price_map(tmp_path: Path) -> LiteLLMPriceMap:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(MAP))
    return LiteLLMPriceMap.from_file(path)


def test_exact_key_in_prices_per_million_tokens(price_map: LiteLLMPriceMap) -> None:
    found = price_map.lookup("gpt-4o")
    assert found is not None
    assert found.input_per_mtok == pytest.approx(2.5)
    assert found.output_per_mtok == pytest.approx(10.0)
    assert found.max_input_tokens == 128000


def test_whole_model_string_first_then_after_the_first_slash(price_map: LiteLLMPriceMap) -> None:
    assert price_map.lookup("openai/gpt-4o") == price_map.lookup("gpt-4o")
    mistral = price_map.lookup("mistral/mistral-large-latest")
    assert mistral is not None
    assert (mistral.input_per_mtok, mistral.output_per_mtok) == (pytest.approx(0.5), pytest.approx(1.5))
    assert price_map.lookup("openai/openai/gpt-4o") is None  # only the first prefix is stripped


def test_sample_spec_and_garbage_are_skipped(price_map: LiteLLMPriceMap) -> None:
    assert len(price_map) == 4  # gpt-4o, both mistral keys, free
    for name in ("sample_spec", "text-price", "no-output-price", "bool-price", "negative", "bad-window"):
        assert price_map.lookup(name) is None, name
    assert price_map.lookup("not-an-object") is None
    assert price_map.lookup("free") == ModelPrice(input_per_mtok=0.0, output_per_mtok=0.0)


def test_unknown_model_is_none(price_map: LiteLLMPriceMap) -> None:
    assert price_map.lookup("gpt-9") is None
    assert price_map.lookup("openai/gpt-9") is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the price map"),
        ("{nope", "is not a JSON object"),
        ("[1, 2]", "is not a JSON object"),
    ],
)
def test_unusable_file_names_its_path(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "prices.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigurationError) as info:
        LiteLLMPriceMap.from_file(path)
    assert message in info.value.problems[0]
    assert str(path) in info.value.problems[0]


def test_an_edited_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"m": {"input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06}}))
    assert LiteLLMPriceMap.from_file(path) is LiteLLMPriceMap.from_file(path)  # parsed once
    path.write_text(json.dumps({"m": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1e-06}}))
    found = LiteLLMPriceMap.from_file(path).lookup("m")
    assert found is not None
    assert found.input_per_mtok == pytest.approx(3.0)


def test_sources(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(MAP))
    assert open_price_map("none") is None
    from_file = open_price_map(str(path))
    assert from_file is not None
    assert from_file.lookup("gpt-4o") is not None
    bundled = open_price_map("litellm")
    assert (bundled is None) == (bundled_path() is None)


@pytest.mark.skipif(bundled_path() is None, reason="litellm is not installed")
def test_litellm_bundled_map_prices_openai_gpt_4o_without_importing_litellm() -> None:
    bundled = LiteLLMPriceMap.bundled()
    assert bundled is not None
    found = bundled.lookup("openai/gpt-4o")
    assert found is not None
    assert (found.input_per_mtok, found.output_per_mtok) == (pytest.approx(2.5), pytest.approx(10.0))
    assert found.max_input_tokens == 128000
    code = (
        "import sys\nfrom routeiq_adapters.pricing import LiteLLMPriceMap\n"
        "assert LiteLLMPriceMap.bundled().lookup('gpt-4o') is not None\nprint('litellm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
