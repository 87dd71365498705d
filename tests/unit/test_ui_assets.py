"""The dashboard's asset table and session view, without a server."""

from __future__ import annotations

import gzip

import pytest

import routeiq_app.ui
from routeiq_app.ui import UiAssets, session_view
from routeiq_app.ui.routes import asset_response
from routeiq_core.access import Principal
from routeiq_core.errors import NotFoundError


def test_ui_exports() -> None:
    assert routeiq_app.ui.__all__ == ["CONTENT_SECURITY_POLICY", "UiAssets", "session_view", "ui_routes"]
    for name in routeiq_app.ui.__all__:
        assert hasattr(routeiq_app.ui, name), name


def test_only_known_file_types_are_served() -> None:
    assets = UiAssets({"index.html": b"<p>", "js/a.js": b"1", "notes.txt": b"x", "Makefile": b"y"})
    assert assets.paths == ("index.html", "js/a.js")
    assert assets.get("notes.txt") is None


def test_etag_follows_content_and_gzip_round_trips() -> None:
    one = UiAssets({"a.js": b"let a = 1;"}).get("a.js")
    same = UiAssets({"a.js": b"let a = 1;"}).get("a.js")
    other = UiAssets({"a.js": b"let a = 2;"}).get("a.js")
    assert one is not None
    assert same is not None
    assert other is not None
    assert one.etag == same.etag != other.etag
    assert gzip.decompress(one.gzipped) == b"let a = 1;"
    assert one.gzipped == same.gzipped  # no timestamp in the gzip header


def test_responses_compress_only_when_asked_and_answer_304_to_a_current_copy() -> None:
    assets = UiAssets({"a.js": b"x" * 1000})
    plain = asset_response(assets, "a.js", {})
    assert plain.content == b"x" * 1000
    assert "content-encoding" not in plain.headers
    packed = asset_response(assets, "a.js", {"accept-encoding": "br, gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    etag = packed.headers["etag"]
    assert asset_response(assets, "a.js", {"if-none-match": etag}).status_code == 304
    with pytest.raises(NotFoundError):
        asset_response(assets, "b.js", {})


def test_the_shipped_files_load_from_the_package() -> None:
    paths = UiAssets.from_package().paths
    assert "index.html" in paths
    assert "js/app.js" in paths


@pytest.mark.parametrize(
    ("principal", "granted", "refused"),
    [
        (Principal.admin(), {"keys.write", "audit.log.read", "config.reload"}, set()),
        (
            Principal(kind="virtual_key", role="viewer", key_id="k1", team="t"),
            {"keys.read", "config.read", "metrics.read"},
            {"keys.write", "teams.write", "policy.explain", "audit.log.read", "mcp.servers.read"},
        ),
        (Principal(kind="virtual_key", role="auditor", key_id="k2"), {"audit.log.read"}, {"keys.read"}),
    ],
)
def test_session_view_lists_the_granted_permissions(
    principal: Principal, granted: set[str], refused: set[str]
) -> None:
    view = session_view(principal)
    assert view.role == principal.role
    assert granted <= set(view.permissions)
    assert not refused & set(view.permissions)
