"""The dashboard's files over HTTP: CSP and cache headers, gzip and ETags, one round trip of assets
under 300 KB compressed, nothing external, and ``/ui/session``'s view of a key's permissions."""

from __future__ import annotations

import fnmatch
import gzip
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient

from routeiq_app import Container, create_app
from routeiq_app.settings import load_settings
from routeiq_app.ui import CONTENT_SECURITY_POLICY, UiAssets

MASTER = "sk-master-dashboard-test"
ADMIN = {"Authorization": f"Bearer {MASTER}"}
ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "routeiq_app" / "ui" / "static"
CONFIG = "model_list:\n  - model_name: demo\n    litellm_params: {model: mock/demo}\n"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "keys.db")}
    container = Container()
    container.settings.override(providers.Object(load_settings(str(cfg), env)))
    with TestClient(create_app(container), raise_server_exceptions=False) as c:
        yield c


def static_files() -> list[str]:
    return sorted(p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*") if p.is_file())


def test_the_page_is_served_with_a_strict_csp_and_revalidated_caching(client: TestClient[Litestar]) -> None:
    r = client.get("/ui", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in CONTENT_SECURITY_POLICY
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["content-encoding"] == "gzip"
    assert "RouteIQ" in r.text
    again = client.get("/ui", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get("/ui/").status_code == 200


def test_every_file_is_served_with_its_type(client: TestClient[Litestar]) -> None:
    types = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}
    for path in static_files():
        r = client.get(f"/ui/{path}")
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith(types[Path(path).suffix]), path
        assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_unknown_files_and_traversal_are_404(client: TestClient[Litestar]) -> None:
    for path in ("/ui/nope.js", "/ui/../pyproject.toml", "/ui/js/../../assets.py", "/ui/%2e%2e/routes.py"):
        assert client.get(path).status_code == 404, path


def test_one_round_trip_of_assets_under_300_kb_compressed() -> None:
    index = (STATIC / "index.html").read_text()
    linked = set(re.findall(r'(?:href|src)="/ui/([^"]+)"', index))
    assert linked == set(static_files()) - {"index.html"}, "every asset is linked or preloaded by the page"
    for path in static_files():
        if path.endswith(".js"):
            for spec in re.findall(r'from "(\.[^"]+)"', (STATIC / path).read_text()):
                assert (STATIC / path).parent.joinpath(spec).resolve().is_file(), (path, spec)
    assets = UiAssets.from_package()
    total = sum(len(asset.gzipped) for p in assets.paths if (asset := assets.get(p)))
    assert total < 300_000, total
    assert gzip.decompress(assets.get("index.html").gzipped) == (STATIC / "index.html").read_bytes()  # type: ignore[union-attr]


def test_no_external_url_inline_script_or_inline_style() -> None:
    for path in static_files():
        text = (STATIC / path).read_text()
        urls = set(re.findall(r"https?://[^\s\"'`)]+", text)) - {"http://www.w3.org/2000/svg"}
        assert not urls, (path, urls)
        assert "innerHTML" not in text, path
        assert "eval(" not in text, path
        assert "localStorage" not in text.replace("never in\n// localStorage", ""), path
    index = (STATIC / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", index), "no inline script"
    assert "<style" not in index, "no inline style"
    assert "style=" not in index, "no inline style"


def test_every_static_file_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["routeiq_app.ui"]
    for path in static_files():
        assert any(fnmatch.fnmatch(f"static/{path}", p) for p in patterns), path


def test_session_says_who_the_key_is_and_what_it_may_do(client: TestClient[Litestar]) -> None:
    assert client.get("/ui/session").status_code == 401
    assert client.get("/ui/session", headers={"Authorization": "Bearer sk-wrong"}).status_code == 401
    admin = client.get("/ui/session", headers=ADMIN)
    assert admin.status_code == 200
    assert admin.headers["cache-control"] == "no-store"
    assert admin.json()["kind"] == "admin"
    assert {"keys.write", "audit.log.read", "llm.call"} <= set(admin.json()["permissions"])
    issued = client.post("/admin/keys", json={"role": "viewer", "team": "t1"}, headers=ADMIN).json()
    viewer = client.get("/ui/session", headers={"Authorization": f"Bearer {issued['key']}"}).json()
    assert viewer["role"] == "viewer"
    assert viewer["key_id"] == issued["key_id"]
    assert "key" not in viewer
    assert "keys.read" in viewer["permissions"]
    assert "keys.write" not in viewer["permissions"]
    assert "audit.log.read" not in viewer["permissions"]


def test_ui_routes_stay_out_of_the_openapi_document(client: TestClient[Litestar]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/ui")]
