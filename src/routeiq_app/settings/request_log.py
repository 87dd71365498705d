"""Request log settings (``observability.request_log``): where records go, how long, and bodies."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from routeiq_app.settings.base import PositiveFloat, PositiveInt, _Section


class RequestLogSettings(_Section, frozen=True):
    """One structured record per call, read back with `GET /admin/requests`."""

    enabled: Annotated[
        bool, Meta(description="Record every call (answered, refused or failed) in the request log.")
    ] = True
    backend: Annotated[
        Literal["auto", "sqlite", "postgres", "memory"],
        Meta(
            description="`auto` follows `keys.backend`. `sqlite`: a file `<name>-requests<suffix>` beside "
            "the key store's (a `:memory:` `keys.sqlite_path` means `memory`); `postgres`: the key "
            "store's `keys.postgres_dsn` and schema, for several nodes; `memory`: each worker keeps its "
            "latest calls only."
        ),
    ] = "auto"
    retention_days: Annotated[
        PositiveFloat, Meta(description="Days of records kept; older ones are deleted once an hour.")
    ] = 30.0
    flush_interval_s: Annotated[
        PositiveFloat, Meta(description="How often each worker writes its buffered records (one batch).")
    ] = 1.0
    max_buffered: Annotated[
        PositiveInt,
        Meta(
            description="Records a worker holds while the database is unreachable (beyond, the oldest are "
            "dropped and counted in `routeiq_request_log_records_dropped`); with `memory`, the records kept."
        ),
    ] = 10_000
    bodies: Annotated[
        bool,
        Meta(
            description="Also record request bodies and (non-streamed) answers. Off by default: they may "
            "hold anything a client sends."
        ),
    ] = False
    max_body_chars: Annotated[
        PositiveInt, Meta(description="Longest body kept, in characters; longer ones are cut.")
    ] = 16_384
    redact_bodies: Annotated[
        bool | None,
        Meta(
            description="Mask what the PII detectors find (e-mails, phones, cards, IBANs, IPs, secrets) in "
            "recorded bodies. Unset: on when the `pii_guard` plugin is enabled (with its `kinds`)."
        ),
    ] = None
