"""Routing tables: per-prompt outcomes of several models, loaded into numpy arrays.

The shared format is JSONL, one prompt per line::

    {"id": "...", "prompt": "...", "task": "...", "scores": {"model": 0.0..1.0}, "costs": {"model": usd}}

Any number of models (at least two) and any model names are accepted; every line must name the same
models in ``scores`` and ``costs``. Models are sorted by name so that column order is stable.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import msgspec
import numpy as np
import numpy.typing as npt

from routeiq_core.errors import InvalidRequestError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class RoutingTableError(InvalidRequestError):
    """A routing table file is missing, empty or has a malformed line."""


class RoutingRow(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a routing table as it is on disk."""

    id: str
    prompt: str
    task: str = ""
    scores: dict[str, float]
    costs: dict[str, float]


class RoutingTable(msgspec.Struct, frozen=True, kw_only=True):
    """A routing table in memory: ``scores[i, j]`` is model ``models[j]``'s quality on prompt ``i``.

    Attributes:
        ids: Prompt ids, one per row.
        prompts: Prompt texts.
        tasks: Task names ("" when the table has none).
        models: Model names, sorted (the column order of ``scores`` and ``costs``).
        scores: Quality matrix ``(n, m)`` in [0, 1].
        costs: Cost matrix ``(n, m)`` in USD.
    """

    ids: tuple[str, ...]
    prompts: tuple[str, ...]
    tasks: tuple[str, ...]
    models: tuple[str, ...]
    scores: FloatArray
    costs: FloatArray

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, rows: Sequence[int] | IntArray) -> RoutingTable:
        """The table restricted to ``rows`` (in that order)."""
        idx = np.asarray(rows, dtype=np.int64)
        return RoutingTable(
            ids=tuple(self.ids[i] for i in idx),
            prompts=tuple(self.prompts[i] for i in idx),
            tasks=tuple(self.tasks[i] for i in idx),
            models=self.models,
            scores=self.scores[idx],
            costs=self.costs[idx],
        )

    def head(self, n: int) -> RoutingTable:
        """The first ``n`` rows (a quick slice for examples and tests)."""
        return self.subset(np.arange(min(n, len(self))))

    def content_hash(self) -> str:
        """SHA-256 over ids, prompts, models, scores and costs: identifies the training data."""
        h = hashlib.sha256()
        for part in (self.models, self.ids, self.prompts, self.tasks):
            h.update("\x1f".join(part).encode())
            h.update(b"\x1e")
        h.update(np.ascontiguousarray(self.scores, dtype=np.float64).tobytes())
        h.update(np.ascontiguousarray(self.costs, dtype=np.float64).tobytes())
        return h.hexdigest()


def _check_row(row: RoutingRow, where: str, models: tuple[str, ...] | None) -> tuple[str, ...]:
    names = tuple(sorted(row.scores))
    if len(names) < 2:
        raise RoutingTableError(f"{where}: 'scores' must name at least two models, got {list(names)}")
    if tuple(sorted(row.costs)) != names:
        raise RoutingTableError(
            f"{where}: 'costs' names {sorted(row.costs)} but 'scores' names {list(names)}; they must match"
        )
    if models is not None and names != models:
        raise RoutingTableError(
            f"{where}: models {list(names)} differ from the first line's {list(models)}; "
            "every line must score the same models"
        )
    for label, values in (("scores", row.scores), ("costs", row.costs)):
        for model, value in values.items():
            if not math.isfinite(value) or value < 0:
                raise RoutingTableError(f"{where}: {label}[{model!r}]={value!r} must be a finite number >= 0")
    return names


def table_from_rows(rows: Iterable[RoutingRow], *, source: str = "<rows>") -> RoutingTable:
    """Build a :class:`RoutingTable` from parsed rows, validating them.

    Raises:
        RoutingTableError: Fewer than one row, fewer than two models, or inconsistent model names.
    """
    models: tuple[str, ...] | None = None
    kept: list[RoutingRow] = []
    for number, row in enumerate(rows, start=1):
        models = _check_row(row, f"{source}: row {number} (id {row.id!r})", models)
        kept.append(row)
    if models is None:
        raise RoutingTableError(f"{source}: the table has no rows")
    scores = np.array([[r.scores[m] for m in models] for r in kept], dtype=np.float64)
    costs = np.array([[r.costs[m] for m in models] for r in kept], dtype=np.float64)
    return RoutingTable(
        ids=tuple(r.id for r in kept),
        prompts=tuple(r.prompt for r in kept),
        tasks=tuple(r.task for r in kept),
        models=models,
        scores=scores,
        costs=costs,
    )


def _parse_lines(path: Path, lines: Iterable[bytes]) -> Iterator[RoutingRow]:
    decoder = msgspec.json.Decoder(RoutingRow)
    models: tuple[str, ...] | None = None
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            row = decoder.decode(raw)
        except msgspec.DecodeError as exc:
            raise RoutingTableError(f"{path}: line {number}: {exc}") from None
        models = _check_row(row, f"{path}: line {number} (id {row.id!r})", models)
        yield row


def load_routing_table(path: str | Path, *, limit: int | None = None) -> RoutingTable:
    """Load a JSONL routing table.

    Args:
        path: The ``.jsonl`` file.
        limit: Read at most this many rows (a quick slice for examples and tests).

    Raises:
        RoutingTableError: The file is missing or empty, or a line is malformed (the message names the line).
    """
    file = Path(path)
    if not file.is_file():
        raise RoutingTableError(f"{file}: no such routing table file")
    with file.open("rb") as handle:
        rows: list[RoutingRow] = []
        for row in _parse_lines(file, handle):
            rows.append(row)
            if limit is not None and len(rows) >= limit:
                break
    return table_from_rows(rows, source=str(file))


def train_test_split(n: int, *, test_fraction: float = 0.2, seed: int = 0) -> tuple[IntArray, IntArray]:
    """A seeded random split of ``range(n)`` into sorted (train, test) index arrays."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, round(n * test_fraction))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def k_fold(n: int, k: int = 5, *, seed: int = 0) -> list[tuple[IntArray, IntArray]]:
    """Seeded k-fold cross-validation: ``k`` (train, test) index pairs; tests partition ``range(n)``."""
    if not 2 <= k <= n:
        raise ValueError(f"k must be between 2 and the number of rows ({n}), got {k}")
    order = np.random.default_rng(seed).permutation(n)
    folds = np.array_split(order, k)
    return [
        (np.sort(np.concatenate([f for j, f in enumerate(folds) if j != i])), np.sort(folds[i]))
        for i in range(k)
    ]
