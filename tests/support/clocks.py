"""The one test clock: a manual, monotonic-or-unix clock whose ``sleep`` advances it."""

from __future__ import annotations


class ManualClock:
    """Returns ``now``; tests move it with :meth:`advance` (or by assigning ``now``).

    Pass it wherever code takes ``clock: Callable[[], float]``, and :meth:`sleep` where it takes an
    async sleep: sleeping records the wait and advances the clock instead of waiting.
    """

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
