"""Write the benchmark's JSON, markdown table and chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench_load import Result

REQUIRED = ("results", "streams", "added_latency_ms_c1", "ratios", "cold_start_s", "import_routeiq_core_ms")


def _cell(results: list[Result], target: str, scenario: str) -> Result | None:
    return next((r for r in results if r.target == target and r.scenario == scenario), None)


def summarize(
    results: list[Result], streams: dict[str, dict[str, float]], extra: dict[str, Any]
) -> dict[str, Any]:
    direct = _cell(results, "direct", "chat 1KB c=1")
    added = {
        r.target: round(r.p50_ms - direct.p50_ms, 3)
        for r in results
        if direct and r.scenario == "chat 1KB c=1" and r.target != "direct"
    }
    ratios: dict[str, float] = {}
    routeiq, floor, litellm = (_cell(results, t, "chat 1KB c=16") for t in ("routeiq", "floor", "litellm"))
    if routeiq and floor:
        ratios["routeiq/floor rps c=16"] = round(routeiq.rps / floor.rps, 3)
    traced = _cell(results, "routeiq traced", "chat 1KB c=16")
    if routeiq and traced:
        ratios["routeiq traced/routeiq rps c=16"] = round(traced.rps / routeiq.rps, 3)
    if routeiq and litellm and litellm.rps:
        ratios["routeiq/litellm rps c=16"] = round(routeiq.rps / litellm.rps, 1)
    ttft_direct = streams.get("direct", {}).get("ttft_p50_ms")
    stream_overhead = {
        name: round(s["ttft_p50_ms"] - ttft_direct, 3)
        for name, s in streams.items()
        if ttft_direct and name != "direct"
    }
    return {
        "results": [r.as_dict() for r in results],
        "streams": streams,
        "ttft_overhead_ms": stream_overhead,
        "added_latency_ms_c1": added,
        "ratios": ratios,
        **extra,
    }


def markdown(summary: dict[str, Any], with_litellm: bool, elapsed_s: float) -> str:
    lines = [
        "| scenario | target | req/s | p50 ms | p90 ms | p99 ms | errors | CPU ms/req | RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in summary["results"]:
        lines.append(
            f"| {r['scenario']} | {r['target']} | {r['rps']:.0f} | {r['p50_ms']} | {r['p90_ms']} "
            f"| {r['p99_ms']} | {r['errors']} | {r['cpu_ms_per_request']} | {r['rss_mb']} |"
        )
    lines += ["", "| stream (50 chunks) | TTFT p50 ms | total p50 ms |", "|---|---|---|"]
    lines += [f"| {n} | {s['ttft_p50_ms']} | {s['total_p50_ms']} |" for n, s in summary["streams"].items()]
    lines += ["", f"Added p50 latency over direct at c=1 (ms): {summary['added_latency_ms_c1']}"]
    lines += [f"TTFT overhead over direct (ms): {summary['ttft_overhead_ms']}"]
    chat = summary["streams"].get("routeiq", {}).get("ttft_p50_ms")
    for name, s in summary.get("translated_streams", {}).items():
        over = f" (+{s['ttft_p50_ms'] - chat:.3f} ms over RouteIQ's chat stream)" if chat is not None else ""
        lines += [f"Translated {name} stream: TTFT p50 {s['ttft_p50_ms']} ms{over}"]
    lines += [f"Ratios: {summary['ratios']}", f"Cold start to ready (s): {summary['cold_start_s']}"]
    lines += [f"import routeiq_core: {summary['import_routeiq_core_ms']} ms"]
    if "soak" in summary:
        lines += [f"Soak: {summary['soak']}"]
    if not with_litellm:
        lines += [
            "",
            "LiteLLM proxy not measured (run `make bench`, which installs it in benchmarks/.venv-litellm).",
        ]
    lines += [f"Run took {elapsed_s:.0f} s."]
    return "\n".join(lines) + "\n"


def chart(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = list(dict.fromkeys(r["scenario"] for r in summary["results"]))
    targets = list(dict.fromkeys(r["target"] for r in summary["results"]))
    width = 0.8 / max(1, len(targets))
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for i, target in enumerate(targets):
        values = [
            next((r["rps"] for r in summary["results"] if r["target"] == target and r["scenario"] == s), 0)
            for s in scenarios
        ]
        ax.bar([x + i * width for x in range(len(scenarios))], values, width, label=target)
    ax.set_xticks([x + width * (len(targets) - 1) / 2 for x in range(len(scenarios))], scenarios)
    ax.set_ylabel("requests / second")
    ax.set_yscale("log")
    ax.set_title("Throughput, one run, same upstream (log scale)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_reports(
    out: Path,
    results: list[Result],
    streams: dict[str, dict[str, float]],
    extra: dict[str, Any],
    with_litellm: bool,
    elapsed_s: float,
) -> str:
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(results, streams, extra)
    missing = [k for k in REQUIRED if k not in summary]
    if missing:
        raise RuntimeError(f"benchmark summary lacks {missing}")
    (out / "bench.json").write_text(json.dumps(summary, indent=2))
    table = markdown(summary, with_litellm, elapsed_s)
    (out / "bench.md").write_text(table)
    chart(summary, out / "bench.png")
    return table
