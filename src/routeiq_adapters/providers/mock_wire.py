"""The mock's answers in OpenAI's JSON: chat and completion bodies, stream chunks, embeddings."""

from __future__ import annotations

import base64
import hashlib
import itertools
import random
import struct
import time
import uuid
from collections.abc import Iterator
from typing import Any

from routeiq_adapters.providers.mock_agent import MockAnswer, MockChoice, tokens

_COMMON = (" the", " a", " and", " of", " to", " is", " in", " it", ".", ",", " that", " for")
_ALTERNATIVES: tuple[str, ...] = _COMMON + tuple(f" option{i}" for i in range(len(_COMMON), 21))
"""What ``top_logprobs`` lists after the token itself (enough for the largest count, 20)."""


def fingerprint(deployment_id: str, seed: int | None) -> str:
    """``system_fingerprint``: derived from the deployment and the request's ``seed``."""
    digest = hashlib.blake2b(f"{deployment_id}|{seed}".encode(), digest_size=5).hexdigest()
    return f"fp_{digest}"


def envelope(*, chat: bool, chunk: bool, model: str, system_fingerprint: str) -> dict[str, Any]:
    """The fields every chat or completion body and chunk starts with."""
    if chat:
        kind = "chat.completion.chunk" if chunk else "chat.completion"
        prefix = "chatcmpl-"
    else:
        kind, prefix = "text_completion", "cmpl-"
    return {
        "id": prefix + uuid.uuid4().hex,
        "object": kind,
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": system_fingerprint,
    }


def chat_choices(answer: MockAnswer) -> list[dict[str, Any]]:
    """The ``choices`` of a chat completion."""
    out = []
    for index, choice in enumerate(answer.choices):
        message: dict[str, Any] = {"role": "assistant", "content": choice.text}
        if choice.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in choice.tool_calls
            ]
        out.append(
            {
                "index": index,
                "message": message,
                "logprobs": _chat_logprobs(choice.text, answer, 0) if answer.options.logprobs else None,
                "finish_reason": choice.finish_reason,
            }
        )
    return out


def completion_choices(answer: MockAnswer) -> list[dict[str, Any]]:
    """The ``choices`` of a legacy completion."""
    return [
        {
            "index": index,
            "text": choice.text or "",
            "logprobs": _completion_logprobs(choice.text or "", answer, 0, 0)
            if answer.options.logprobs
            else None,
            "finish_reason": choice.finish_reason,
        }
        for index, choice in enumerate(answer.choices)
    ]


def chunk_choices(answer: MockAnswer, *, chat: bool, per_chunk: int) -> Iterator[dict[str, Any]]:
    """Each streamed chunk's one choice, the choices interleaved, ``per_chunk`` tokens in each."""
    streams = [
        _chat_stream(answer, i, choice, per_chunk)
        if chat
        else _completion_stream(answer, i, choice, per_chunk)
        for i, choice in enumerate(answer.choices)
    ]
    for row in itertools.zip_longest(*streams):
        yield from (item for item in row if item is not None)


def _chat_stream(
    answer: MockAnswer, index: int, choice: MockChoice, per_chunk: int
) -> Iterator[dict[str, Any]]:
    if choice.tool_calls:
        for j, call in enumerate(choice.tool_calls):
            head: dict[str, Any] = {"role": "assistant", "content": None} if j == 0 else {}
            head["tool_calls"] = [
                {
                    "index": j,
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": ""},
                }
            ]
            yield {"index": index, "delta": head, "finish_reason": None}
            for piece in _grouped(tokens(call.arguments), per_chunk):
                fragment = {"index": j, "function": {"arguments": piece}}
                yield {"index": index, "delta": {"tool_calls": [fragment]}, "finish_reason": None}
    else:
        pieces = _grouped(tokens(choice.text or ""), per_chunk) or [""]
        done = 0
        for k, piece in enumerate(pieces):
            delta: dict[str, Any] = {"role": "assistant", "content": piece} if k == 0 else {"content": piece}
            item: dict[str, Any] = {"index": index, "delta": delta, "finish_reason": None}
            if answer.options.logprobs:
                item["logprobs"] = _chat_logprobs(piece, answer, done)
            done += len(tokens(piece))
            yield item
    yield {"index": index, "delta": {}, "finish_reason": choice.finish_reason}


def _completion_stream(
    answer: MockAnswer, index: int, choice: MockChoice, per_chunk: int
) -> Iterator[dict[str, Any]]:
    done = offset = 0
    for piece in _grouped(tokens(choice.text or ""), per_chunk):
        item: dict[str, Any] = {"index": index, "text": piece, "finish_reason": None, "logprobs": None}
        if answer.options.logprobs:
            item["logprobs"] = _completion_logprobs(piece, answer, done, offset)
        done += len(tokens(piece))
        offset += len(piece)
        yield item
    yield {"index": index, "text": "", "finish_reason": choice.finish_reason, "logprobs": None}


def _grouped(pieces: list[str], size: int) -> list[str]:
    return ["".join(pieces[i : i + size]) for i in range(0, len(pieces), size)]


def _logprob(token: str, position: int, seed: int | None) -> float:
    """A plausible, deterministic log probability in [-2.5, -0.001]."""
    digest = hashlib.blake2b(f"{seed}|{position}|{token}".encode(), digest_size=4).digest()
    return -round(0.001 + 2.5 * int.from_bytes(digest) / 2**32, 6)


def _top(token: str, logprob: float, count: int) -> list[tuple[str, float]]:
    others = [a for a in _ALTERNATIVES if a != token][: max(0, count - 1)]
    return [(token, logprob)][:count] + [
        (alt, round(logprob - 0.75 * (k + 1), 6)) for k, alt in enumerate(others)
    ]


def _chat_logprobs(text: str | None, answer: MockAnswer, start: int) -> dict[str, Any]:
    if text is None:
        return {"content": None, "refusal": None}
    entries = []
    for position, token in enumerate(tokens(text), start=start):
        logprob = _logprob(token, position, answer.options.seed)
        entries.append(
            {
                "token": token,
                "logprob": logprob,
                "bytes": list(token.encode()),
                "top_logprobs": [
                    {"token": alt, "logprob": lp, "bytes": list(alt.encode())}
                    for alt, lp in _top(token, logprob, answer.options.top_logprobs)
                ],
            }
        )
    return {"content": entries, "refusal": None}


def _completion_logprobs(text: str, answer: MockAnswer, start: int, offset: int) -> dict[str, Any]:
    out: dict[str, list[Any]] = {"tokens": [], "token_logprobs": [], "top_logprobs": [], "text_offset": []}
    for position, token in enumerate(tokens(text), start=start):
        logprob = _logprob(token, position, answer.options.seed)
        out["tokens"].append(token)
        out["token_logprobs"].append(logprob)
        out["top_logprobs"].append(dict(_top(token, logprob, answer.options.top_logprobs)))
        out["text_offset"].append(offset)
        offset += len(token)
    return out


def embedding_data(
    deployment_id: str, inputs: list[Any], dimensions: int, *, b64: bool
) -> list[dict[str, Any]]:
    """One deterministic vector per input (the same text always gets the same vector).

    A shorter ``dimensions`` gives a prefix of the longer vector, as shortened OpenAI embeddings are.
    With ``b64`` each vector is little-endian float32, base64-encoded, as OpenAI sends it.
    """
    data = []
    for i, item in enumerate(inputs):
        rng = random.Random(f"{deployment_id}:{item}")
        vector = [rng.uniform(-1, 1) for _ in range(dimensions)]
        embedding: Any = vector
        if b64:
            embedding = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": embedding})
    return data
