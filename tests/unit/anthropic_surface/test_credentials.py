"""Anthropic clients' ``x-api-key``, read where every surface reads keys (a Bearer token still wins)."""

from __future__ import annotations

import pytest

from routeiq_app.surfaces.http import HttpRequestReader, presented_key


@pytest.mark.parametrize(
    ("headers", "key"),
    [
        ([(b"x-api-key", b"sk-ant")], "sk-ant"),
        ([(b"x-api-key", b" sk-ant ")], "sk-ant"),
        ([(b"authorization", b"Bearer sk-bearer"), (b"x-api-key", b"sk-ant")], "sk-bearer"),
        ([(b"x-litellm-api-key", b"sk-litellm"), (b"x-api-key", b"sk-ant")], "sk-litellm"),
        ([(b"authorization", b"Basic abc"), (b"x-api-key", b"sk-ant")], "sk-ant"),
        ([(b"x-api-key", b"")], None),
        ([], None),
    ],
)
def test_the_reader_takes_x_api_key_last(headers: list[tuple[bytes, bytes]], key: str | None) -> None:
    credentials, _ = HttpRequestReader().read({"headers": headers, "client": ("127.0.0.1", 1)})
    assert credentials.token == key


def test_presented_key_keeps_its_two_argument_form() -> None:
    assert presented_key("Bearer a", None) == "a"
    assert presented_key(None, "b") == "b"
    assert presented_key(None, None, "c") == "c"
