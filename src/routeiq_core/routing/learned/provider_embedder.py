"""An embedder over the provider port: any embeddings deployment (OpenAI-compatible, LiteLLM, mock)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

import anyio
import anyio.from_thread
import msgspec
import numpy as np
import numpy.typing as npt

from routeiq_core.catalog import Deployment
from routeiq_core.errors import UpstreamError
from routeiq_core.providers import Operation, ProviderClient
from routeiq_core.routing.learned.embedding import F32Array

T = TypeVar("T")


class _Item(msgspec.Struct):
    embedding: list[float]
    index: int = 0


class _Reply(msgspec.Struct):
    data: list[_Item]


class ProviderEmbedder:
    """Embeds texts by calling an embeddings deployment through the provider port.

    ``embed`` is synchronous like every embedder: from a worker thread started by anyio (as
    ``RoutingModel.aroute`` does) it calls back into the event loop; with no event loop (a script,
    the CLI) it runs one. Do not call ``embed`` on the event loop's own thread; use :meth:`aembed`.

    Args:
        client: The provider adapter of ``deployment``.
        deployment: An embeddings deployment.
        dim: The vector size it returns (checked on every call).
        timeout_s: Bound on each provider call.
        batch_size: Texts per call.
    """

    kind = "provider"

    def __init__(
        self,
        client: ProviderClient,
        deployment: Deployment,
        *,
        dim: int,
        timeout_s: float = 10.0,
        batch_size: int = 64,
    ) -> None:
        self._client = client
        self._deployment = deployment
        self._dim = dim
        self._timeout_s = timeout_s
        self._batch_size = batch_size
        self._decoder = msgspec.json.Decoder(_Reply)

    @property
    def dim(self) -> int:
        """The vector dimension."""
        return self._dim

    def config_dict(self) -> dict[str, object]:
        """What an artifact records: which deployment, and the dimension."""
        return {"deployment": self._deployment.id, "dim": self._dim}

    def state(self) -> Mapping[str, npt.NDArray[np.generic]]:
        """Nothing is learned locally."""
        return {}

    def embed(self, texts: Sequence[str]) -> F32Array:
        """Embed ``texts`` (rows L2-normalised, float32)."""
        return _run(self.aembed, list(texts))

    async def aembed(self, texts: Sequence[str]) -> F32Array:
        """Embed ``texts`` from async code."""
        rows: list[F32Array] = []
        for start in range(0, len(texts), self._batch_size):
            rows.append(await self._batch(list(texts[start : start + self._batch_size])))
        if not rows:
            return np.zeros((0, self._dim), dtype=np.float32)
        return np.vstack(rows)

    async def _batch(self, texts: list[str]) -> F32Array:
        payload: dict[str, Any] = {"model": self._deployment.upstream_model, "input": texts}
        reply = await self._client.send(
            self._deployment, Operation.EMBEDDINGS, payload, timeout_s=self._timeout_s
        )
        try:
            items = sorted(self._decoder.decode(reply.body).data, key=lambda item: item.index)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise UpstreamError(
                f"embeddings deployment {self._deployment.id!r} answered oddly: {exc}"
            ) from exc
        vectors = np.asarray([item.embedding for item in items], dtype=np.float32)
        if vectors.shape != (len(texts), self._dim):
            raise UpstreamError(
                f"embeddings deployment {self._deployment.id!r} returned shape {vectors.shape}, "
                f"expected ({len(texts)}, {self._dim})"
            )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        normalised: F32Array = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
        return normalised


def _run(func: Callable[[list[str]], Coroutine[Any, Any, T]], texts: list[str]) -> T:
    try:
        return anyio.from_thread.run(func, texts)
    except RuntimeError:  # not an anyio worker thread: no loop to call back into, so run one
        return anyio.run(func, texts)


def provider_embedder_loader(
    provider_for: Callable[[str], tuple[ProviderClient, Deployment]],
) -> Callable[[Mapping[str, Any], Mapping[str, npt.NDArray[Any]]], ProviderEmbedder]:
    """An artifact loader for ``provider`` embedders, resolving the deployment with ``provider_for``."""

    def load(config: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]]) -> ProviderEmbedder:
        client, deployment = provider_for(str(config["deployment"]))
        return ProviderEmbedder(client, deployment, dim=int(config["dim"]))

    return load
