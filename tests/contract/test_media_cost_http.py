"""What images, speech and transcriptions cost: per image (by size, quality), character, second (in process).

Prices come from ``model_info.media_prices``, from LiteLLM's flat ``model_info`` keys, or from the
price map (size-specific image entries included); the cost is on the answer (``x-routeiq-cost``)
and in the spend ledger, computed by the one cost formula.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient

from routeiq_app import Container, create_app
from routeiq_app.settings import load_settings
from tests.support.fake_upstream import FakeUpstream

MASTER = "sk-master-media-key"
ADMIN = {"Authorization": f"Bearer {MASTER}"}
PRICE_MAP = {
    "tts-map": {"input_cost_per_character": 2e-05, "litellm_provider": "openai", "mode": "audio_speech"},
    "hd/1024-x-1792/image-map": {"input_cost_per_pixel": 5e-08, "output_cost_per_pixel": 0.0},
    "1024-x-1024/image-map": {"input_cost_per_image": 0.02},
}
AUDIO = b"\0" * 32_000
"""Two seconds of audio at the rate an unreported duration is estimated at."""


def config(upstream: str, prices: Path) -> str:
    def entry(name: str, model: str, info: str) -> str:
        params = f'{{model: openai/{model}, api_base: "{upstream}", api_key: sk-up}}'
        return f"  - model_name: {name}\n    litellm_params: {params}\n    model_info: {{{info}}}"

    sized = "{per_image: 0.04, per_image_by_size: {hd/1024x1792: 0.12, 1792x1024: 0.08}}"
    return "\n".join(
        [
            "model_list:",
            entry("images", "dall-e-3", f"mode: image_generation, media_prices: {sized}"),
            entry("speech", "tts-1", "mode: audio_speech, input_cost_per_character: 0.000015"),
            entry("transcribe", "whisper-1", "mode: audio_transcription, input_cost_per_second: 0.0001"),
            entry("speech-map", "tts-map", "mode: audio_speech"),
            entry("images-map", "image-map", "mode: image_generation"),
            f'routing: {{price_map: "{prices}"}}',
        ]
    )


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps(PRICE_MAP))
    with FakeUpstream() as upstream:
        cfg = tmp_path / "c.yaml"
        cfg.write_text(config(upstream.base_url, prices))
        env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "keys.db")}
        container = Container()
        container.settings.override(providers.Object(load_settings(str(cfg), env)))
        with TestClient(create_app(container), raise_server_exceptions=False) as c:
            yield c


def cost_of(client: TestClient[Litestar], path: str, **body: Any) -> float:
    r = client.post(path, json=body, headers=ADMIN)
    assert r.status_code == 200, r.text
    return float(r.headers["x-routeiq-cost"])


def spend_of(client: TestClient[Litestar], group: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        total: dict[str, Any] = client.get(
            "/admin/spend", params={"model_group": group}, headers=ADMIN
        ).json()["total"]
        if total["requests"] or time.monotonic() > deadline:
            return total
        time.sleep(0.05)


def test_images_are_priced_by_count_size_and_quality(client: TestClient[Litestar]) -> None:
    path = "/v1/images/generations"
    assert cost_of(client, path, model="images", prompt="a cat") == pytest.approx(0.04)  # no size: per image
    sized = cost_of(client, path, model="images", prompt="a cat", n=2, size="1024x1792", quality="hd")
    assert sized == pytest.approx(2 * 0.12)
    assert cost_of(client, path, model="images", prompt="a cat", size="1792x1024") == pytest.approx(0.08)
    assert spend_of(client, "images")["cost"] == pytest.approx(0.04 + 0.24 + 0.08)


def test_image_prices_by_size_come_from_the_price_maps_sized_entries(client: TestClient[Litestar]) -> None:
    path = "/v1/images/generations"
    hd = cost_of(client, path, model="images-map", prompt="a dog", size="1024x1792", quality="hd")
    assert hd == pytest.approx(1024 * 1792 * 5e-08)  # per pixel, as LiteLLM prices DALL-E
    assert cost_of(client, path, model="images-map", prompt="a dog", size="1024x1024") == pytest.approx(0.02)


def test_speech_is_priced_per_character_of_its_input(client: TestClient[Litestar]) -> None:
    text = "Hello, world."
    for model, price in (("speech", 1.5e-05), ("speech-map", 2e-05)):
        r = client.post(
            "/v1/audio/speech", json={"model": model, "input": text, "voice": "alloy"}, headers=ADMIN
        )
        assert r.status_code == 200, r.text
        assert spend_of(client, model)["cost"] == pytest.approx(len(text) * price)


def test_transcriptions_are_priced_per_second_of_audio(client: TestClient[Litestar]) -> None:
    for response_format in ("json", "text"):
        r = client.post(
            "/v1/audio/transcriptions",
            data={"model": "transcribe", "response_format": response_format},
            files={"file": ("clip.mp3", AUDIO, "audio/mpeg")},
            headers=ADMIN,
        )
        assert r.status_code == 200, r.text
        assert float(r.headers["x-routeiq-cost"]) == pytest.approx(2 * 0.0001)  # the file's size, at 16 kB/s
