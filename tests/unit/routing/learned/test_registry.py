"""The router registry: atomic swaps, a version counter, readers keep what they started with."""

from __future__ import annotations

import anyio
import pytest

from routeiq_core.errors import NotFoundError
from routeiq_core.routing.learned import RouterRegistry


def test_swap_get_remove_and_version() -> None:
    registry: RouterRegistry[str] = RouterRegistry({"auto": "v1"})
    assert registry.version == 0
    assert registry.names() == ("auto",)
    assert registry.swap("auto", "v2") == 1
    assert registry.get("auto") == "v2"
    assert registry.swap("cheap", "c1") == 2
    assert registry.names() == ("auto", "cheap")
    assert registry.remove("cheap") == 3
    with pytest.raises(NotFoundError, match="no router named 'cheap'"):
        registry.get("cheap")
    with pytest.raises(NotFoundError):
        registry.remove("cheap")


def test_snapshots_are_unaffected_by_later_swaps() -> None:
    registry: RouterRegistry[str] = RouterRegistry({"auto": "v1"})
    before = registry.snapshot()
    registry.swap("auto", "v2")
    assert before["auto"] == "v1"
    assert registry.snapshot()["auto"] == "v2"
    with pytest.raises(TypeError):
        before["auto"] = "x"  # type: ignore[index]


def test_in_flight_readers_keep_their_router_across_a_swap() -> None:
    registry: RouterRegistry[str] = RouterRegistry({"auto": "v1"})
    seen: list[tuple[str, str]] = []

    async def request(name: str) -> None:
        router = registry.get("auto")
        await anyio.sleep(0.01)  # the swap happens while this request is in flight
        seen.append((name, router))

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(request, "early")
            await anyio.sleep(0.001)
            registry.swap("auto", "v2")
            tg.start_soon(request, "late")

    anyio.run(main)
    assert sorted(seen) == [("early", "v1"), ("late", "v2")]
