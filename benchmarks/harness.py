"""RouteIQ vs LiteLLM proxy vs the floor vs direct, side by side in one run (`make bench`).

Starts on loopback: a fast mock upstream, the floor (a raw-ASGI proxy on granian), RouteIQ (1 and 2
workers) and, when its environment exists, LiteLLM proxy, all against the same upstream; drives each
with the same load generator (wrk when installed, else a Python aiohttp closed loop); writes
results/bench.json, results/bench.md and results/bench.png.

    python benchmarks/harness.py [--seconds 5] [--smoke] [--soak] [--litellm PATH/TO/litellm]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from bench_load import Result, load, stream_latency, translated_latency
from bench_procs import Proc, cold_start, import_time_ms, start_targets
from bench_report import write_reports

HERE = Path(__file__).resolve().parent
SCENARIOS_FULL = (
    ("chat 1KB c=1", 1, 1024, False),
    ("chat 1KB c=16", 16, 1024, False),
    ("chat 1KB c=64", 64, 1024, False),
    ("chat 100KB c=16", 16, 100 * 1024, False),
)
SCENARIOS_SMOKE = (("chat 1KB c=1", 1, 1024, False), ("chat 1KB c=16", 16, 1024, False))


def run_cells(
    targets: dict[str, Proc], scenarios: tuple[tuple[str, int, int, bool], ...], seconds: float
) -> list[Result]:
    results = []
    for scenario, concurrency, body_bytes, _ in scenarios:
        for proc in targets.values():
            result = load(proc, scenario, concurrency, body_bytes, seconds)
            print(result.row(), flush=True)
            results.append(result)
    return results


def soak(proc: Proc, seconds: float) -> dict[str, float]:
    """RSS after ~10k requests vs after ~200k (bounded per-request bookkeeping)."""
    first = load(proc, "soak warm-up", 16, 1024, max(2.0, 10_000 / 3000))
    rss_10k = proc.rss_mb()
    served = first.requests
    while served < 200_000:
        served += load(proc, "soak", 16, 1024, seconds).requests
    rss_end = proc.rss_mb()
    return {
        "requests": served,
        "rss_mb_after_10k": rss_10k,
        "rss_mb_after_all": rss_end,
        "growth": rss_end / rss_10k - 1,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--smoke", action="store_true", help="a few seconds end to end, no LiteLLM")
    parser.add_argument("--soak", action="store_true", help="also run 200k requests through one worker")
    parser.add_argument("--litellm", default=str(HERE / ".venv-litellm" / "bin" / "litellm"))
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args()
    seconds = 1.0 if args.smoke else args.seconds
    litellm = None if args.smoke or not Path(args.litellm).exists() else args.litellm
    print(f"load generator: {'wrk' if shutil.which('wrk') else 'python aiohttp'}; {os.cpu_count()} cores")
    started = time.time()
    with start_targets(HERE, litellm=litellm, smoke=args.smoke) as targets:
        results = run_cells(targets, SCENARIOS_SMOKE if args.smoke else SCENARIOS_FULL, seconds)
        streams = {name: stream_latency(proc, 3 if args.smoke else 20) for name, proc in targets.items()}
        for name, s in streams.items():
            print(f"stream {name}: ttft p50 {s['ttft_p50_ms']:.2f} ms, total p50 {s['total_p50_ms']:.2f} ms")
        translated = translated_latency(targets["routeiq"], 3 if args.smoke else 20)
        chat_ttft = streams["routeiq"]["ttft_p50_ms"]
        for name, s in translated.items():
            print(
                f"stream routeiq {name} (translated): ttft p50 {s['ttft_p50_ms']:.2f} ms "
                f"(+{s['ttft_p50_ms'] - chat_ttft:.2f} ms over chat), total p50 {s['total_p50_ms']:.2f} ms"
            )
        extra = {
            "translated_streams": translated,
            "cold_start_s": {name: proc.ready_s for name, proc in targets.items()},
            "import_routeiq_core_ms": import_time_ms(),
            "routeiq_cold_start_s": cold_start(HERE),
        }
        if args.soak:
            extra["soak"] = soak(targets["routeiq"], args.seconds)
    report = write_reports(
        Path(args.out), results, streams, extra, litellm is not None, time.time() - started
    )
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
