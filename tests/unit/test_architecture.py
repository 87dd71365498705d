"""Structural promises: a pure core, no module-level mutable state, small modules, explicit exports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
CORE_ALLOWED_THIRD_PARTY = {"msgspec", "numpy", "cachetools", "anyio"}
MUTABLE_CALLS = {
    "dict", "list", "set", "defaultdict", "OrderedDict", "deque", "Counter",
    "WeakValueDictionary", "WeakKeyDictionary", "LRUCache", "TTLCache", "LFUCache",
}  # fmt: skip


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def _imported_roots(tree: ast.AST) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_imports_only_stdlib_and_allowed_packages() -> None:
    allowed = set(sys.stdlib_module_names) | CORE_ALLOWED_THIRD_PARTY | {"routeiq_core", "__future__"}
    offenders = {
        str(path.relative_to(SRC)): sorted(_imported_roots(ast.parse(path.read_text())) - allowed)
        for path in _modules("routeiq_core")
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert offenders == {}


def test_adapters_never_import_the_app() -> None:
    for path in _modules("routeiq_adapters"):
        assert "routeiq_app" not in _imported_roots(ast.parse(path.read_text())), path


def test_importing_core_pulls_in_no_framework() -> None:
    code = (
        "import sys, routeiq_core\n"
        "heavy = [m for m in ('litellm', 'litestar', 'httpx', 'aiohttp', 'dependency_injector', 'faiss')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _mutable_module_assignments(tree: ast.Module) -> list[str]:
    found = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if names == ["__all__"]:
            continue
        literal = isinstance(value, ast.Dict | ast.List | ast.Set | ast.DictComp | ast.ListComp | ast.SetComp)
        call = isinstance(value, ast.Call) and (
            (isinstance(value.func, ast.Name) and value.func.id in MUTABLE_CALLS)
            or (isinstance(value.func, ast.Attribute) and value.func.attr in MUTABLE_CALLS)
        )
        if literal or call:
            found.append(f"{','.join(names)} (line {node.lineno})")
    return found


@pytest.mark.parametrize("package", ["routeiq_core", "routeiq_adapters", "routeiq_app"])
def test_no_module_level_mutable_state(package: str) -> None:
    offenders = {}
    for path in _modules(package):
        found = _mutable_module_assignments(ast.parse(path.read_text()))
        if found:
            offenders[str(path.relative_to(SRC))] = found
    assert offenders == {}, "module-level mutable containers; build them in the container instead"


def test_the_scan_catches_module_level_registries() -> None:
    tree = ast.parse("REGISTRY = {}\ncache = dict()\n_x: list[int] = []\nOK = (1, 2)\n__all__ = ['a']\n")
    assert [f.split(" ")[0] for f in _mutable_module_assignments(tree)] == ["REGISTRY", "cache", "_x"]


def test_modules_stay_under_400_lines() -> None:
    long = {
        str(p.relative_to(SRC)): n for p in SRC.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}
