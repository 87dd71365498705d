"""Loaded routers by name, with atomic hot swap."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Generic, TypeVar

from routeiq_core.errors import NotFoundError

T = TypeVar("T")


class RouterRegistry(Generic[T]):
    """Holds the serving router of each name; :meth:`swap` replaces one atomically.

    The routers live in a read-only mapping that is rebuilt on every swap and published with a single
    attribute rebind. Under asyncio (one thread runs the handlers) a rebind cannot interleave with a
    read, and in threads it is atomic under the GIL too: a reader that fetched a router keeps using
    that object until it is done, however many swaps happen meanwhile; the next :meth:`get` sees the
    new one. Build and verify the new router *before* calling :meth:`swap` (loading is slow and may
    fail; swapping is instant and cannot).
    """

    def __init__(self, routers: Mapping[str, T] | None = None) -> None:
        self._routers: Mapping[str, T] = MappingProxyType(dict(routers or {}))
        self._version = 0

    @property
    def version(self) -> int:
        """Incremented by every :meth:`swap` and :meth:`remove`."""
        return self._version

    def names(self) -> tuple[str, ...]:
        """Registered names, sorted."""
        return tuple(sorted(self._routers))

    def snapshot(self) -> Mapping[str, T]:
        """The current read-only name -> router mapping (unaffected by later swaps)."""
        return self._routers

    def get(self, name: str) -> T:
        """The router serving ``name``.

        Raises:
            NotFoundError: No router of that name.
        """
        try:
            return self._routers[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise NotFoundError(f"no router named {name!r} (loaded: {known})", param="model") from None

    def swap(self, name: str, router: T) -> int:
        """Serve ``router`` under ``name`` from now on (adding or replacing); returns the new version."""
        updated = dict(self._routers)
        updated[name] = router
        self._routers = MappingProxyType(updated)
        self._version += 1
        return self._version

    def remove(self, name: str) -> int:
        """Stop serving ``name``; returns the new version.

        Raises:
            NotFoundError: No router of that name.
        """
        self.get(name)
        self._routers = MappingProxyType({k: v for k, v in self._routers.items() if k != name})
        self._version += 1
        return self._version
