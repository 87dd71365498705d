"""Responses API settings (``responses``): where stored responses live, and for how long."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from routeiq_app.settings.base import PositiveFloat, PositiveInt, _Section


class ResponsesSettings(_Section, frozen=True):
    """The `/v1/responses` API: stored responses, for `previous_response_id` and reading back."""

    backend: Annotated[
        Literal["auto", "sqlite", "postgres", "memory"],
        Meta(
            description="`auto` follows `keys.backend`. `sqlite`: a file `<name>-responses<suffix>` beside "
            "the key store's (a `:memory:` `keys.sqlite_path` means `memory`), shared by the workers of a "
            "machine; `postgres`: the key store's `keys.postgres_dsn` and schema, for several nodes; "
            "`memory`: each worker keeps its own (a conversation cannot move between workers)."
        ),
    ] = "auto"
    ttl_s: Annotated[
        PositiveFloat,
        Meta(
            description="Seconds a stored response can be read or continued; expired ones are deleted hourly."
        ),
    ] = 30 * 24 * 3600.0
    max_stored_bytes: Annotated[
        PositiveInt,
        Meta(
            description="Largest conversation (input items, encoded) a response may store or continue; "
            "beyond it the request gets 400 (start a new conversation, or send `store: false`)."
        ),
    ] = 4 * 1024 * 1024
    max_memory_records: Annotated[
        PositiveInt, Meta(description="With `memory`: the responses one worker keeps (oldest dropped).")
    ] = 10_000
