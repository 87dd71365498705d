"""How upstream names appear to clients: ``{server}__{tool}``, ``{server}+{uri}``, at most 64 characters.

Every exposed name is a pure function of the upstream's slug and the upstream's own name, so every
worker of every node computes the same map without talking to the others. A name that is too long
for model providers (more than 64 characters) or holds characters they refuse (anything outside
``[A-Za-z0-9_-]``) is shortened: its cleaned prefix, ``_`` and ten hex digits of a SHA-256 of the
slug and the original name. In single-upstream mode names are not prefixed (but still shortened).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

__all__ = [
    "MAX_NAME_LENGTH",
    "SEPARATOR",
    "URI_SEPARATOR",
    "NameMap",
    "exposed_name",
    "exposed_uri",
    "server_of",
    "slug_problem",
    "split_uri",
]

MAX_NAME_LENGTH = 64
"""The longest tool name model providers accept."""
SEPARATOR = "__"
"""Between a server's slug and its tool or prompt name."""
URI_SEPARATOR = "+"
"""Between a server's slug and its resource URI (``github+file:///README.md``)."""

_SLUG = re.compile(r"[a-z0-9-]{1,16}")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_DIGEST_CHARS = 10


def slug_problem(name: str) -> str | None:
    """Why ``name`` cannot be a server slug (None when it can): 1-16 of ``a-z``, ``0-9``, ``-``."""
    if _SLUG.fullmatch(name):
        return None
    return f"{name!r} is not a server name: use 1 to 16 lowercase letters, digits or '-'"


def exposed_name(server: str, name: str, *, prefixed: bool = True) -> str:
    """The name a client sees for the upstream's tool or prompt ``name`` (see the module docstring)."""
    full = f"{server}{SEPARATOR}{name}" if prefixed else name
    if len(full) <= MAX_NAME_LENGTH and not _UNSAFE.search(full):
        return full
    digest = hashlib.sha256(f"{server}\x00{name}".encode()).hexdigest()[:_DIGEST_CHARS]
    head = f"{server}{SEPARATOR}" if prefixed else ""
    room = MAX_NAME_LENGTH - len(head) - 1 - _DIGEST_CHARS
    return f"{head}{_UNSAFE.sub('_', name)[:room]}_{digest}"


def exposed_uri(server: str, uri: str, *, prefixed: bool = True) -> str:
    """The URI (or URI template) a client sees for the upstream's resource ``uri``."""
    return f"{server}{URI_SEPARATOR}{uri}" if prefixed else uri


def split_uri(uri: str, servers: Iterable[str], *, single: str | None = None) -> tuple[str, str] | None:
    """The server and upstream URI of an exposed URI; None when no configured server owns it.

    Args:
        uri: The URI as the client sent it.
        servers: The configured server slugs.
        single: The only server, in single-upstream mode (URIs are not prefixed then).
    """
    if single is not None:
        return single, uri
    server, sep, rest = uri.partition(URI_SEPARATOR)
    if not sep or not rest or server not in set(servers):
        return None
    return server, rest


class NameMap:
    """Exposed names to (server, upstream name) for the tools or prompts of several upstreams.

    Built from what the upstreams listed. Should two entries map to the same exposed name (only a
    shortened name can collide, and only with an upstream name that imitates one), the first in
    sorted order keeps it and the other is left out, so every worker makes the same choice.

    Args:
        entries: (server, upstream name) pairs.
        prefixed: False in single-upstream mode.
    """

    __slots__ = ("_by_exposed", "_prefixed")

    def __init__(self, entries: Iterable[tuple[str, str]], *, prefixed: bool = True) -> None:
        self._prefixed = prefixed
        self._by_exposed: dict[str, tuple[str, str]] = {}
        for server, name in sorted(set(entries)):
            self._by_exposed.setdefault(exposed_name(server, name, prefixed=prefixed), (server, name))

    def exposed(self, server: str, name: str) -> str | None:
        """The exposed name of an entry, or None when a collision left it out."""
        exposed = exposed_name(server, name, prefixed=self._prefixed)
        return exposed if self._by_exposed.get(exposed) == (server, name) else None

    def resolve(self, exposed: str) -> tuple[str, str] | None:
        """The (server, upstream name) behind ``exposed``, or None when nothing has that name."""
        return self._by_exposed.get(exposed)

    def __len__(self) -> int:
        return len(self._by_exposed)


def server_of(exposed: str, servers: Iterable[str]) -> str | None:
    """The server an exposed tool or prompt name belongs to, from its prefix (None: not prefixed)."""
    server, sep, rest = exposed.partition(SEPARATOR)
    return server if sep and rest and server in set(servers) else None
