"""Progress of the long steps (embedding, inner cross-validation, folds): messages that know how far.

A :class:`Step` is a ``str`` — a callback that prints messages prints it as it is — that also carries
``done``, ``total`` and the estimated seconds left, so a terminal front end can draw a bar with an ETA.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Progress = Callable[[str], None]
"""Receives progress messages (some of them :class:`Step` s)."""


class Step(str):
    """A progress message of a counted step: ``done`` of ``total``, ``eta_s`` seconds to go (or None)."""

    what: str
    done: int
    total: int
    eta_s: float | None

    def __new__(cls, what: str, done: int, total: int, eta_s: float | None = None) -> Step:
        """``what (done/total, ETA Ns)``."""
        eta = f", ETA {eta_s:.0f}s" if eta_s is not None else ""
        step = super().__new__(cls, f"{what} ({done}/{total}{eta})")
        step.what, step.done, step.total, step.eta_s = what, done, total, eta_s
        return step


def step(
    what: str, done: int, total: int, started: float, *, clock: Callable[[], float] = time.monotonic
) -> Step:
    """The step ``done`` of ``total`` of work that began at ``started`` (on ``clock``), with its ETA."""
    elapsed = clock() - started
    eta = elapsed / done * (total - done) if done > 0 else None
    return Step(what, done, total, eta)
