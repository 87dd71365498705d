"""The dashboard's static files, read once from the package and kept gzipped beside the originals."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType

import msgspec

CONTENT_TYPES: Mapping[str, str] = MappingProxyType(
    {
        ".html": "text/html; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".svg": "image/svg+xml",
    }
)
"""The only kinds of file the dashboard ships (anything else in the folder is not served)."""

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
"""Same-origin everything, no inline script or style, never framed."""

SECURITY_HEADERS: Mapping[str, str] = MappingProxyType(
    {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
    }
)
"""Sent with every dashboard response."""


class Asset(msgspec.Struct, frozen=True, kw_only=True):
    """One file: its bytes, gzipped bytes, content type and strong ETag."""

    body: bytes
    gzipped: bytes
    content_type: str
    etag: str


class UiAssets:
    """The files under ``routeiq_app/ui/static``, by path relative to it (``index.html``, ``js/app.js``)."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self._assets = {path: _asset(path, body) for path, body in files.items() if _type_of(path)}

    @classmethod
    def from_package(cls) -> UiAssets:
        """Read the shipped files (package data of ``routeiq_app.ui``)."""
        root = resources.files("routeiq_app.ui").joinpath("static")
        files: dict[str, bytes] = {}
        pending = [(root, "")]
        while pending:
            folder, prefix = pending.pop()
            for entry in folder.iterdir():
                if entry.is_dir():
                    pending.append((entry, f"{prefix}{entry.name}/"))
                elif entry.is_file():
                    files[f"{prefix}{entry.name}"] = entry.read_bytes()
        return cls(files)

    def get(self, path: str) -> Asset | None:
        """The asset at ``path`` (None when the dashboard ships no such file)."""
        return self._assets.get(path)

    @property
    def paths(self) -> tuple[str, ...]:
        """Every served path, sorted."""
        return tuple(sorted(self._assets))


def _type_of(path: str) -> str | None:
    dot = path.rfind(".")
    return CONTENT_TYPES.get(path[dot:]) if dot >= 0 else None


def _asset(path: str, body: bytes) -> Asset:
    content_type = _type_of(path)
    assert content_type is not None
    digest = hashlib.sha256(body).hexdigest()[:32]
    return Asset(
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        content_type=content_type,
        etag=f'"{digest}"',
    )
