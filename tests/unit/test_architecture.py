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


def _call_names(tree: ast.AST) -> set[str]:
    return {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


@pytest.mark.parametrize(
    "package", ["routeiq_core/gateway", "routeiq_core/routing/composition", "routeiq_core/calls"]
)
def test_the_request_path_never_probes_for_hooks(package: str) -> None:
    """Optional capabilities are Protocols checked once at wiring; nothing asks ``getattr`` per request."""
    offenders = {
        str(p.relative_to(SRC)): found
        for p in sorted((SRC / package).rglob("*.py"))
        if (found := sorted(_call_names(ast.parse(p.read_text())) & {"getattr", "hasattr"}))
    }
    assert offenders == {}


def _string_literals(tree: ast.AST) -> list[str]:
    """Every str/bytes constant of a module except docstrings (bytes read as latin-1)."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    texts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in docstrings:
            if isinstance(node.value, str):
                texts.append(node.value)
            elif isinstance(node.value, bytes):
                texts.append(node.value.decode("latin-1"))
    return texts


HTTP_OR_VENDOR_DETAIL = (
    "/v1/",
    "authorization",
    "x-forwarded-for",
    "x-routeiq-",
    "amazonaws.com",
    "aws4-hmac",
)


def test_the_core_knows_no_http_paths_headers_or_vendor_protocols() -> None:
    """Surfaces read headers and paths; vendor protocols are adapters; the core says operation, surface."""
    offenders = {
        str(p.relative_to(SRC)): hits
        for p in _modules("routeiq_core")
        if (
            hits := sorted(
                {text for text in _string_literals(ast.parse(p.read_text())) for bad in HTTP_OR_VENDOR_DETAIL
                 if bad in text.lower()}
            )
        )
    }  # fmt: skip
    assert offenders == {}


def test_the_scan_sees_string_literals_but_not_docstrings() -> None:
    source = '"""Reads Authorization."""\nH = b"x-forwarded-for"\n'
    source += 'def f():\n    """/v1/ path."""\n    return "/v1/x"\n'
    tree = ast.parse(source)
    assert sorted(_string_literals(tree)) == ["/v1/x", "x-forwarded-for"]


ARCHITECTURE = SRC.parent / "docs" / "architecture.md"


def test_the_architecture_doc_names_every_package_folder() -> None:
    """A newcomer finds each capability in one hop: every ``src/*/<folder>`` is mentioned there."""
    text = ARCHITECTURE.read_text()
    folders = sorted(
        f"{pkg.name}/{sub.name}"
        for pkg in SRC.iterdir()
        if pkg.is_dir() and pkg.name.startswith("routeiq_")
        for sub in pkg.iterdir()
        if sub.is_dir() and (sub / "__init__.py").exists()
    )
    assert folders, "no package folders found"
    missing = [f for f in folders if f.split("/")[1] + "/" not in text and f not in text]
    assert missing == [], "mention these in docs/architecture.md"
