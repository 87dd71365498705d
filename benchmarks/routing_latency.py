"""Decision latency of learned routers: one prompt at a time, p50/p99 in microseconds.

kNN over 10k and 100k exemplars with three vector indexes (numpy exact, faiss flat, faiss HNSW), the
MLP and the matrix-factorisation router; each measured with the prompt already embedded (predict +
decide) and with embedding included (hashing embedder + predict + decide). Exemplars are MMLU prompt
embeddings when ``../shared/routing-data`` is present (tiled with small noise up to 100k), random
unit vectors otherwise. ``--minilm`` adds kNN over 10k exemplars embedded with the bundled
all-MiniLM-L6-v2 model (the ``embeddings`` extra). Prints a table; asserts nothing.

    python benchmarks/routing_latency.py [--dim 256] [--calls 300] [--quick] [--minilm]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

from routeiq_adapters.vector import FaissVectorIndex
from routeiq_core.routing.learned import (
    Embedder,
    HashingEmbedder,
    HashingEmbedderConfig,
    KnnRouter,
    MatrixFactorizationRouter,
    MlpRouter,
    NumpyExactIndex,
    QualityRouter,
    decide,
    load_routing_table,
)
from routeiq_core.routing.learned.vector_index import IndexFactory

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "routing-data" / "mmlu-2model.jsonl"
MODELS = ("strong", "weak")


def exemplars(n: int, embedder: Embedder, prompts: list[str], rng: np.random.Generator) -> np.ndarray:
    if prompts:
        base = embedder.embed(prompts[: min(n, len(prompts))])
        tiles = [base]
        while sum(len(t) for t in tiles) < n:
            noisy = base + rng.normal(0, 0.02, base.shape).astype(np.float32)
            tiles.append(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
        return np.concatenate(tiles)[:n]
    x = rng.standard_normal((n, embedder.dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def percentiles(fn: Callable[[int], object], calls: int) -> tuple[float, float]:
    for i in range(10):
        fn(i)  # warm up
    times = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter_ns()
        fn(i)
        times[i] = (time.perf_counter_ns() - start) / 1000.0
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def measure(
    name: str, router: QualityRouter, embedder: Embedder, prompts: list[str], calls: int
) -> list[tuple[str, str, float, float]]:
    queries = embedder.embed(prompts[:calls])
    costs = np.array([1.0, 0.05])

    def without(i: int) -> int:
        return decide(router.predict(queries[i % len(queries)][None, :])[0], costs, 1.0)

    def with_embedding(i: int) -> int:
        return decide(router.predict(embedder.embed([prompts[i % len(prompts)]]))[0], costs, 1.0)

    return [
        (name, "predict+decide", *percentiles(without, calls)),
        (name, "embed+predict+decide", *percentiles(with_embedding, calls)),
    ]


def minilm_rows(
    prompts: list[str], rng: np.random.Generator, calls: int
) -> list[tuple[str, str, float, float]]:
    """kNN over 10k MiniLM exemplars (2k real prompts tiled with noise): 384 dimensions, faiss flat."""
    from routeiq_adapters.embeddings import ready_embedder

    embedder = ready_embedder("minilm")
    assert embedder is not None
    vectors = exemplars(10_000, embedder, prompts[:2000], rng)
    scores = (rng.random((len(vectors), 2)) < [0.8, 0.6]).astype(float)
    router = KnnRouter(
        models=MODELS,
        exemplars=vectors,
        scores=scores,
        k=100,
        power=4.0,
        index_factory=lambda d: FaissVectorIndex(d, kind="flat"),
    )
    return measure("kNN k=100, 10k, faiss flat, MiniLM", router, embedder, prompts, calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=256, help="embedding dimension")
    parser.add_argument("--calls", type=int, default=300, help="timed calls per cell")
    parser.add_argument("--quick", action="store_true", help="10k exemplars only")
    parser.add_argument("--minilm", action="store_true", help="also kNN with the MiniLM embedder")
    parser.add_argument(
        "--threads", type=int, default=1, help="faiss OpenMP threads (1: best single-query latency)"
    )
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    prompts = (
        list(load_routing_table(DATA).prompts) if DATA.is_file() else [f"prompt {i}" for i in range(2000)]
    )
    embedder = HashingEmbedder(HashingEmbedderConfig(dim=args.dim)).fit(prompts[:5000])
    rows: list[tuple[str, str, float, float]] = []
    indexes: dict[str, IndexFactory] = {
        "numpy exact": NumpyExactIndex,
        "faiss flat": lambda d: FaissVectorIndex(d, kind="flat"),
        "faiss HNSW": lambda d: FaissVectorIndex(d, kind="hnsw"),
    }
    for n in (10_000,) if args.quick else (10_000, 100_000):
        vectors = exemplars(n, embedder, prompts, rng)
        scores = (rng.random((n, 2)) < [0.8, 0.6]).astype(float)
        for label, factory in indexes.items():
            built = time.perf_counter()
            router = KnnRouter(
                models=MODELS, exemplars=vectors, scores=scores, k=100, power=4.0, index_factory=factory
            )
            print(f"built kNN {n:,} x {args.dim} ({label}) in {time.perf_counter() - built:.1f}s", flush=True)
            rows += measure(f"kNN k=100, {n // 1000}k, {label}", router, embedder, prompts, args.calls)
    d, h, r = args.dim, 128, 64
    mlp = MlpRouter(
        models=MODELS,
        w1=rng.normal(0, 0.05, (d, h)),
        b1=np.zeros(h),
        w2=rng.normal(0, 0.05, (h, 2)),
        b2=np.zeros(2),
    )
    rows += measure(f"MLP {d}-{h}-2", mlp, embedder, prompts, args.calls)
    mf = MatrixFactorizationRouter(
        models=MODELS,
        projection=rng.normal(0, 0.05, (r, d)),
        model_vectors=rng.normal(0, 0.1, (2, r)),
        bias=np.zeros(2),
    )
    rows += measure(f"MF rank {r}", mf, embedder, prompts, args.calls)
    if args.minilm:
        rows += minilm_rows(prompts, rng, args.calls)
    print(f"\n{'router':36s} {'measured':22s} {'p50 us':>10s} {'p99 us':>10s}")
    for name, what, p50, p99 in rows:
        print(f"{name:36s} {what:22s} {p50:10.0f} {p99:10.0f}")


if __name__ == "__main__":
    main()
