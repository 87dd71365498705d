"""Which requests the cache may answer, and for whom.

Sampling makes an answer one draw among many, so by default only deterministic requests are cached:
``temperature`` 0 (an absent temperature is the OpenAI default, 1) and no tools (tool calls act on
the world, and their answers depend on it). Embeddings are deterministic and always cacheable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import msgspec

from routeiq_core.operations import BYTE_STREAMS, PROVIDER_OBJECTS
from routeiq_core.providers import Operation

_TOOL_FIELDS = ("tools", "functions")
DEFAULT_TEMPERATURE = 1.0
"""The temperature OpenAI-compatible APIs use when a request sets none."""


def cacheable(
    payload: Mapping[str, Any],
    allow_temperature: bool = False,
    allow_tools: bool = False,
    *,
    operation: Operation = Operation.CHAT,
) -> bool:
    """Whether a request may be answered from (and stored in) the cache.

    Args:
        payload: The OpenAI request.
        allow_temperature: Also cache requests sampled with ``temperature > 0`` (or none set).
        allow_tools: Also cache requests offering tools or functions.
        operation: Embeddings are always cacheable, speech never.
    """
    if operation is Operation.EMBEDDINGS:
        return True
    if operation in BYTE_STREAMS or operation in PROVIDER_OBJECTS:  # audio, files, batches: never kept
        return False
    temperature = payload.get("temperature")
    if temperature is None:
        temperature = DEFAULT_TEMPERATURE
    if isinstance(temperature, bool) or not isinstance(temperature, int | float):
        return False
    if temperature > 0 and not allow_temperature:
        return False
    uses_tools = any(payload.get(f) for f in _TOOL_FIELDS) or payload.get("tool_choice") not in (None, "none")
    return allow_tools or not uses_tools


class CachePolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Cache settings for one cache (exact or semantic).

    Attributes:
        ttl_s: How long an entry is served.
        allow_temperature: Cache sampled requests too.
        allow_tools: Cache requests with tools too.
        per: Share entries within a team (``team``) or only within one key (``key``).
        teams: Teams opted in (``None``: every team).
        keys: Key ids opted in (``None``: every key). A caller is served when its team or its key is in.
    """

    ttl_s: float = 300.0
    allow_temperature: bool = False
    allow_tools: bool = False
    per: Literal["team", "key"] = "team"
    teams: frozenset[str] | None = None
    keys: frozenset[str] | None = None

    def opted_in(self, *, team: str | None, key_id: str | None) -> bool:
        """Whether this caller uses the cache (with no lists, everybody does)."""
        if self.teams is None and self.keys is None:
            return True
        return (team is not None and self.teams is not None and team in self.teams) or (
            key_id is not None and self.keys is not None and key_id in self.keys
        )

    def allows(self, payload: Mapping[str, Any], operation: Operation = Operation.CHAT) -> bool:
        """:func:`cacheable` with this policy's switches."""
        return cacheable(payload, self.allow_temperature, self.allow_tools, operation=operation)
