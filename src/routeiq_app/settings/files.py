"""Files and batches settings (``files``): upload bounds, and where ownership records live."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from routeiq_app.settings.base import PositiveInt, _Section


class FilesSettings(_Section, frozen=True):
    """The `/v1/files` and `/v1/batches` passthrough: the files live with the provider, owners here."""

    max_upload_bytes: Annotated[
        PositiveInt,
        Meta(
            description="Largest file `POST /v1/files` takes (the upload is read into memory); a larger one "
            "gets 413 before anything reaches a provider."
        ),
    ] = 64 * 1024 * 1024
    backend: Annotated[
        Literal["auto", "sqlite", "postgres", "memory"],
        Meta(
            description="Where the records of who owns which file and batch live. `auto` follows "
            "`keys.backend`: a SQLite file `<name>-provider_objects<suffix>` beside the key store's (a "
            "`:memory:` `keys.sqlite_path` means `memory`), or the key store's PostgreSQL schema; "
            "`memory`: each worker keeps its own (another worker answers 404)."
        ),
    ] = "auto"
    max_memory_records: Annotated[
        PositiveInt, Meta(description="With `memory`: the records one worker keeps (oldest dropped).")
    ] = 10_000
