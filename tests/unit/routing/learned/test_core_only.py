"""The learned-routing library works with routeiq_core alone, and exports a deliberate surface."""

from __future__ import annotations

import subprocess
import sys

import routeiq_core.routing.learned as learned


def test_exports_resolve() -> None:
    assert {"train_router", "load_router", "save_router", "QualityRouter", "decide", "RouterRegistry"} <= set(
        learned.__all__
    )
    for name in learned.__all__:
        assert hasattr(learned, name), name


def test_train_and_route_with_the_core_only() -> None:
    code = (
        "import sys\n"
        "sys.modules['faiss'] = None; sys.modules['matplotlib'] = None  # importing either would fail\n"
        "from routeiq_core.routing.learned import HashingEmbedderConfig, table_from_rows, RoutingRow, "
        "train_routing_model\n"
        "rows = [RoutingRow(id=str(i), prompt=('math ' if i % 2 else 'poem ') + str(i), task='t', "
        "scores={'a': float(i % 2), 'b': float(1 - i % 2)}, costs={'a': 1.0, 'b': 2.0}) for i in range(40)]\n"
        "config = HashingEmbedderConfig(dim=32)\n"
        "model = train_routing_model('knn', table_from_rows(rows), embedder_config=config)\n"
        "print(model.route(['math 99'])[0].model)\n"
        "heavy = [m for m in ('litestar', 'httpx', 'routeiq_app', 'routeiq_adapters') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["a", "[]"]
