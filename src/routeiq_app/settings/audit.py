"""The ``audit`` settings section: the tamper-evident log of admin and security events."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from routeiq_app.settings.base import PositiveFloat, PositiveInt, _Section
from routeiq_core.audit import is_key_name


class AuditSettings(_Section, frozen=True):
    """The audit log: hash-chained entries, a Merkle tree, signed checkpoints (`docs/observability.md`)."""

    enabled: Annotated[
        bool, Meta(description="Record key, team, config and router changes, auth failures and refusals.")
    ] = True
    backend: Annotated[
        Literal["auto", "sqlite", "postgres", "memory"],
        Meta(
            description="`auto` follows `keys.backend`: a SQLite file `<name>-audit<suffix>` beside the key "
            "store, or the key store's PostgreSQL DSN and schema; `memory` keeps nothing (one process)."
        ),
    ] = "auto"
    origin: Annotated[
        str | None,
        Meta(
            description="The log's identity: the first line of its checkpoints and the name of their "
            "signing key (no spaces, no `+`). Unset: `<observability.service_name>/audit`."
        ),
    ] = None
    signing_key: Annotated[
        str | None,
        Meta(
            description="The Ed25519 key signing checkpoints (`routeiq audit keygen` prints one): "
            "`os.environ/NAME` of a variable holding it, or the path of a file holding it. Unset: a key "
            "generated into `<name>-audit.key` (mode 0600) beside the SQLite file, with a warning; set "
            "one when several nodes share a PostgreSQL log."
        ),
    ] = None
    verify_keys: Annotated[
        list[str],
        Meta(
            description="Earlier public keys (vkeys printed by `routeiq audit keygen`) whose checkpoints "
            "still verify after a key rotation."
        ),
    ] = msgspec.field(default_factory=list)
    checkpoint_every_entries: Annotated[
        PositiveInt, Meta(description="A signed checkpoint each time the log grows by this many entries.")
    ] = 256
    checkpoint_interval_s: Annotated[
        PositiveFloat, Meta(description="A signed checkpoint at least this often, even when idle (seconds).")
    ] = 60.0
    checkpoint_copy_path: Annotated[
        str | None,
        Meta(
            description="A file every checkpoint is also appended to: ship it somewhere the gateway cannot "
            "rewrite, and `routeiq audit verify --checkpoint FILE` catches a truncated or rewritten log."
        ),
    ] = None
    aggregate_window_s: Annotated[
        PositiveFloat,
        Meta(
            description="Auth failures (per client address), quota and budget refusals and permission "
            "denials are written as one summary entry per kind per window (seconds)."
        ),
    ] = 60.0
    aggregate_max_groups: Annotated[
        PositiveInt,
        Meta(description="Distinct groups (addresses, ...) one summary keeps; more are counted as overflow."),
    ] = 256
    timeout_s: Annotated[PositiveFloat, Meta(description="Longest wait for the audit store per write.")] = 5.0

    def __post_init__(self) -> None:
        if self.origin is not None and not is_key_name(self.origin):
            raise ValueError(f"origin must have no spaces, '+' or control characters, got {self.origin!r}")
