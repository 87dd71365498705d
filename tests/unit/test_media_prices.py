"""Media prices: the units a call is measured in, their price, and where LiteLLM's map puts them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routeiq_adapters.pricing.litellm_map import LiteLLMPriceMap
from routeiq_core.catalog import Deployment
from routeiq_core.media_prices import MediaPrices, MediaUnits, media_units, size_key
from routeiq_core.operations import Operation, UploadedFile

PRICES = MediaPrices(
    per_image=0.04,
    per_image_by_size={"hd/1024x1792": 0.12, "1024x1792": 0.08},
    per_character=1e-5,
    per_second=1e-4,
)


def test_sizes_are_read_in_either_spelling_and_bounded() -> None:
    assert size_key("1024x1792") == size_key("1024-x-1792") == "1024x1792"
    assert [size_key(s) for s in ("auto", "0x10", "99999x1", "x", 1024, "12x")] == [None] * 6


def test_an_image_price_goes_quality_and_size_then_size_then_pixels_then_one_price() -> None:
    def image(size: str | None, quality: str | None = None) -> float:
        return PRICES.cost(MediaUnits(images=1, size=size, quality=quality))

    assert image("1024x1792", "hd") == 0.12
    assert image("1024x1792", "standard") == 0.08
    assert image("1024x1024") == 0.04
    assert image(None) == 0.04
    pixels = MediaPrices(per_pixel=1e-8, per_image=1.0)
    assert pixels.cost(MediaUnits(images=3, size="1000x1000")) == pytest.approx(3 * 0.01)
    assert pixels.cost(MediaUnits(images=3)) == 3.0


def test_the_units_of_each_operation() -> None:
    images = media_units(Operation.IMAGES, {"n": 3, "size": "1024x1792", "quality": "hd"}, None)
    assert images == MediaUnits(images=3, size="1024x1792", quality="hd")
    assert media_units(Operation.IMAGES, {"n": 10_000}, None) == MediaUnits(images=1)  # not believed
    assert media_units(Operation.AUDIO_SPEECH, {"input": "héllo"}, None) == MediaUnits(characters=5)
    upload = UploadedFile(filename="a.mp3", media_type="audio/mpeg", data=b"\0" * 8_000)
    reported = media_units(
        Operation.AUDIO_TRANSCRIPTION, {"file": upload}, b'{"usage": {"type": "duration", "seconds": 7}}'
    )
    assert reported == MediaUnits(seconds=7.0)
    verbose = media_units(Operation.AUDIO_TRANSCRIPTION, {"file": upload}, b'{"text": "x", "duration": 3.5}')
    assert verbose == MediaUnits(seconds=3.5)
    estimated = media_units(Operation.AUDIO_TRANSCRIPTION, {"file": upload}, b"plain text")
    assert estimated == MediaUnits(seconds=0.5)
    assert media_units(Operation.CHAT, {"messages": []}, b"{}") is None


def test_a_deployment_adds_media_to_tokens_in_one_formula() -> None:
    d = Deployment(
        id="d", model_group="g", adapter="openai", upstream_model="m", input_price_per_mtok=1.0, media=PRICES
    )
    assert d.cost(1_000_000, 0) == 1.0
    assert d.cost(1_000_000, 0, MediaUnits(characters=100)) == pytest.approx(1.0 + 100 * 1e-5)
    plain = Deployment(id="p", model_group="g", adapter="openai", upstream_model="m")
    assert plain.cost(0, 0, MediaUnits(images=5)) == 0.0


def test_the_price_map_gives_unit_prices_and_gathers_sized_image_entries(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    entries = {
        "tts-x": {"input_cost_per_character": 1.5e-05},
        "whisper-x": {"input_cost_per_second": 0.0001, "output_cost_per_second": 0.0001},
        "standard/1024-x-1024/img-x": {"input_cost_per_pixel": 4e-08, "output_cost_per_pixel": 0.0},
        "hd/1024-x-1792/img-x": {"input_cost_per_image": 0.12},
        "azure/low/1024-x-1024/img-y": {"input_cost_per_image": 0.011},
        "chat-x": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06},
        "nothing-x": {"mode": "chat"},
    }
    path.write_text(json.dumps(entries))
    prices = LiteLLMPriceMap.from_file(path)
    tts, whisper = prices.lookup("tts-x"), prices.lookup("openai/whisper-x")
    assert tts is not None
    assert tts.media == MediaPrices(per_character=1.5e-05)
    assert whisper is not None
    assert whisper.media == MediaPrices(per_second=0.0001)
    image = prices.lookup("img-x")
    assert image is not None
    assert image.media is not None
    assert image.media.per_image_by_size == {
        "standard/1024x1024": pytest.approx(1024 * 1024 * 4e-08),
        "hd/1024x1792": 0.12,
    }
    assert prices.lookup("standard/1024-x-1024/img-x") is None  # folded into its model
    other = prices.lookup("azure/img-y")
    assert other is not None
    assert other.media is not None
    assert other.media.per_image_by_size == {"low/1024x1024": 0.011}
    chat = prices.lookup("chat-x")
    assert chat is not None
    assert chat.media is None
    assert prices.lookup("nothing-x") is None
