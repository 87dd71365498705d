"""The mock's answers to the operations that are not text generation: moderations, images, rerank.

Every answer is deterministic: it depends only on the request (a moderation flags fixed keywords, an
image's colour comes from its prompt, a ranking scores word overlap), so tests can assert on it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
import time
import uuid
import zlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from routeiq_adapters.providers.mock_request import MockRequestError
from routeiq_core.providers import UploadedFile

MAX_IMAGES = 10
MAX_RERANK_DOCUMENTS = 1_000
IMAGE_SIDE = 64
"""The side of the mock's square images, whatever size was asked for (they are solid colour)."""

_CATEGORIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "harassment": ("idiot", "loser"),
        "harassment/threatening": ("i will hurt you",),
        "hate": ("hate",),
        "hate/threatening": (),
        "illicit": ("steal", "hack into"),
        "illicit/violent": ("build a bomb",),
        "self-harm": ("self-harm",),
        "self-harm/instructions": (),
        "self-harm/intent": (),
        "sexual": ("explicit",),
        "sexual/minors": (),
        "violence": ("kill", "attack"),
        "violence/graphic": ("gore",),
    }
)
"""Moderation categories and the words that flag them in the mock."""
_WORD = re.compile(r"\w+")


def moderation(payload: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A moderation answer (one result per input string) and the texts it judged."""
    raw = payload.get("input")
    if isinstance(raw, str):
        texts = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(item, str) for item in raw):
        texts = list(raw)
    elif isinstance(raw, list) and raw and all(isinstance(item, dict) for item in raw):
        # multimodal input: one result for all parts, images judged harmless
        texts = [" ".join(str(part.get("text", "")) for part in raw if part.get("type") == "text")]
    else:
        raise MockRequestError("input", "input must be a string, a list of strings or a list of parts")
    body = {
        "id": "modr-" + uuid.uuid4().hex,
        "model": payload["model"],
        "results": [_moderation_result(text) for text in texts],
    }
    return body, texts


def _moderation_result(text: str) -> dict[str, Any]:
    lowered = text.lower()
    scores = {
        name: 0.9 if any(word in lowered for word in words) else _small_score(name, text)
        for name, words in _CATEGORIES.items()
    }
    categories = {name: score >= 0.5 for name, score in scores.items()}
    return {
        "flagged": any(categories.values()),
        "categories": categories,
        "category_scores": scores,
        "category_applied_input_types": {name: ["text"] for name in _CATEGORIES},
    }


def _small_score(name: str, text: str) -> float:
    """A stable, harmless score (below 0.01) for a category the text does not trigger."""
    digest = hashlib.blake2b(f"{name}|{text}".encode(), digest_size=4).digest()
    return int.from_bytes(digest) / 2**32 / 100


def images(payload: dict[str, Any], prompt_tokens: int, *, edit: bool = False) -> dict[str, Any]:
    """An image generation (or ``edit``) answer: ``n`` PNGs (``b64_json``, or ``url`` as a data URL).

    An edit's colour comes from its prompt and the sizes of the images it was given.
    """
    prompt = payload.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        raise MockRequestError("prompt", "prompt must be a non-empty string")
    seed = prompt
    if edit:
        given = payload.get("image")
        uploads = given if isinstance(given, list) else [given]
        if not uploads or not all(isinstance(u, UploadedFile) and u.data for u in uploads):
            raise MockRequestError("image", "image must be one or more non-empty image files")
        seed = f"{prompt}|{[len(u.data) for u in uploads if isinstance(u, UploadedFile)]}"
    n = payload.get("n", 1)
    if type(n) is not int or not 1 <= n <= MAX_IMAGES:
        raise MockRequestError("n", f"n must be an integer between 1 and {MAX_IMAGES}")
    fmt = payload.get("response_format") or "b64_json"
    if fmt not in ("b64_json", "url"):
        raise MockRequestError("response_format", "response_format must be url or b64_json")
    data = []
    for index in range(n):
        encoded = base64.b64encode(_png(f"{seed}|{index}")).decode()
        image = {"b64_json": encoded} if fmt == "b64_json" else {"url": "data:image/png;base64," + encoded}
        data.append({**image, "revised_prompt": prompt})
    return {
        "created": int(time.time()),
        "data": data,
        "usage": {
            "input_tokens": prompt_tokens,
            "output_tokens": 0,
            "total_tokens": prompt_tokens,
            "input_tokens_details": {"text_tokens": prompt_tokens, "image_tokens": 0},
        },
    }


def _png(seed: str) -> bytes:
    """A solid-colour PNG of :data:`IMAGE_SIDE` pixels a side, its colour derived from ``seed``."""
    rgb = hashlib.blake2b(seed.encode(), digest_size=3).digest()
    row = b"\x00" + rgb * IMAGE_SIDE
    header = struct.pack(">IIBBBBB", IMAGE_SIDE, IMAGE_SIDE, 8, 2, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(row * IMAGE_SIDE)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def rerank(payload: dict[str, Any]) -> dict[str, Any]:
    """A rerank answer in Cohere's shape: documents scored by the share of query words they hold."""
    query = payload.get("query")
    documents = payload.get("documents")
    if not isinstance(query, str) or not query:
        raise MockRequestError("query", "query must be a non-empty string")
    if not isinstance(documents, list) or not 1 <= len(documents) <= MAX_RERANK_DOCUMENTS:
        raise MockRequestError("documents", f"documents must hold 1 to {MAX_RERANK_DOCUMENTS} items")
    top_n = payload.get("top_n")
    if top_n is not None and (type(top_n) is not int or top_n < 1):
        raise MockRequestError("top_n", "top_n must be a positive integer")
    wanted = set(_WORD.findall(query.lower()))
    scored = []
    for index, document in enumerate(documents):
        words = set(_WORD.findall(_document_text(document).lower()))
        score = len(wanted & words) / len(wanted | words) if wanted | words else 0.0
        scored.append((round(score, 6), index))
    scored.sort(key=lambda item: (-item[0], item[1]))
    results = []
    for score, index in scored[:top_n]:
        result: dict[str, Any] = {"index": index, "relevance_score": score}
        if payload.get("return_documents"):
            document = documents[index]
            result["document"] = document if isinstance(document, dict) else {"text": document}
        results.append(result)
    return {
        "id": "rerank-" + uuid.uuid4().hex,
        "results": results,
        "meta": {"billed_units": {"search_units": 1}},
    }


def _document_text(document: object) -> str:
    if isinstance(document, str):
        return document
    if isinstance(document, dict):
        return " ".join(str(value) for value in document.values() if isinstance(value, str))
    raise MockRequestError("documents", "each document must be a string or an object of strings")
