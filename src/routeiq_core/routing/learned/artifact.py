"""Router artifacts: a directory of plain files, verified by a SHA-256 manifest; never pickle.

Layout::

    metadata.json          kind, version, models, hyperparameters, embedder config, table hash, time
    arrays/<name>.npy      router, embedder and cost-model arrays (np.save, allow_pickle=False)
    index.<kind>           optional saved vector index (for example a faiss index)
    manifest.json          {"files": {path: {"sha256", "bytes"}}} for every other file

``load_router`` refuses an artifact whose manifest is missing, or that has a missing, extra, truncated
or modified file, with an :class:`ArtifactError` naming the file.
"""

from __future__ import annotations

import datetime
import hashlib
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from routeiq_core._version import read_version
from routeiq_core.errors import RouteIQError
from routeiq_core.routing.learned._rebuild import RebuildContext, rebuild_router
from routeiq_core.routing.learned.costs import CostModel
from routeiq_core.routing.learned.embedding import Embedder, HashingEmbedder, SaveableEmbedder
from routeiq_core.routing.learned.features import FeatureEmbedder, feature_embedder_loader
from routeiq_core.routing.learned.pipeline import RoutingModel
from routeiq_core.routing.learned.vector_index import (
    IndexFactory,
    PersistentVectorIndex,
    VectorIndex,
    numpy_index_factory,
)

FORMAT = "routeiq-router"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
METADATA = "metadata.json"
EmbedderLoader = Callable[[Mapping[str, Any], Mapping[str, npt.NDArray[Any]]], Embedder]
IndexLoader = Callable[[Path], VectorIndex]


class ArtifactError(RouteIQError):
    """A router artifact is missing, incomplete, tampered with or of an unknown format."""

    status_code = 500
    error_type = "api_error"
    default_code = "invalid_router_artifact"


class EmbedderSpec(msgspec.Struct, frozen=True, kw_only=True):
    """How to rebuild the embedder: its kind, configuration and the names of its saved arrays."""

    kind: str
    config: dict[str, Any]
    state: tuple[str, ...] = ()


class IndexSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A saved vector index file and the kind of index that reads it."""

    kind: str
    file: str


class ArtifactMetadata(msgspec.Struct, frozen=True, kw_only=True):
    """``metadata.json``."""

    kind: str
    models: tuple[str, ...]
    hyperparameters: dict[str, Any]
    embedder: EmbedderSpec
    router_arrays: tuple[str, ...]
    format: str = FORMAT
    version: int = FORMAT_VERSION
    index: IndexSpec | None = None
    training_table_hash: str | None = None
    created_at: str = ""
    routeiq_version: str = ""
    extra: dict[str, Any] = msgspec.field(default_factory=dict)


class ManifestEntry(msgspec.Struct, frozen=True, kw_only=True):
    """Checksum and size of one file."""

    sha256: str
    bytes: int


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    """``manifest.json``: every other file of the artifact with its checksum."""

    files: dict[str, ManifestEntry]
    algorithm: str = "sha256"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _save_array(directory: Path, name: str, array: npt.NDArray[Any]) -> None:
    with (directory / "arrays" / f"{name}.npy").open("wb") as handle:
        np.save(handle, np.ascontiguousarray(array), allow_pickle=False)


def save_router(model: RoutingModel, directory: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``model`` as an artifact directory (written aside, then moved into place).

    Raises:
        ArtifactError: ``directory`` exists (and ``overwrite`` is false) or the embedder cannot be saved.
    """
    target = Path(directory)
    if target.exists() and not overwrite:
        raise ArtifactError(f"{target} already exists; choose a new directory or pass overwrite=True")
    embedder = model.embedder
    if not isinstance(embedder, SaveableEmbedder):
        raise ArtifactError(f"embedder {type(embedder).__name__} cannot be saved (no kind/config_dict/state)")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _write(model, embedder, staging)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target


def _write(model: RoutingModel, embedder: SaveableEmbedder, staging: Path) -> None:
    (staging / "arrays").mkdir()
    router_arrays = dict(model.router.arrays())
    for name, array in router_arrays.items():
        _save_array(staging, f"router.{name}", array)
    state = dict(embedder.state())
    for name, array in state.items():
        _save_array(staging, f"embedder.{name}", array)
    _save_array(staging, "costs.intercept", model.costs.intercept)
    _save_array(staging, "costs.slope", model.costs.slope)
    index_spec = None
    index = getattr(model.router, "index", None)
    if isinstance(index, PersistentVectorIndex):
        index_spec = IndexSpec(kind=index.index_kind, file=f"index.{index.index_kind}")
        index.save(staging / index_spec.file)
    extra = dict(model.metadata)
    table_hash = extra.pop("training_table_hash", None)
    metadata = ArtifactMetadata(
        kind=model.router.kind,
        models=model.router.models,
        hyperparameters=dict(model.router.hyperparameters()),
        embedder=EmbedderSpec(kind=embedder.kind, config=embedder.config_dict(), state=tuple(state)),
        router_arrays=tuple(router_arrays),
        index=index_spec,
        training_table_hash=None if table_hash is None else str(table_hash),
        created_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        routeiq_version=read_version(),
        extra=extra,
    )
    (staging / METADATA).write_bytes(msgspec.json.format(msgspec.json.encode(metadata)))
    files = sorted(p for p in staging.rglob("*") if p.is_file())
    manifest = Manifest(
        files={
            p.relative_to(staging).as_posix(): ManifestEntry(sha256=_sha256(p), bytes=p.stat().st_size)
            for p in files
        }
    )
    (staging / MANIFEST).write_bytes(msgspec.json.format(msgspec.json.encode(manifest)))


def verify_artifact(directory: str | Path) -> Manifest:
    """Check every file against ``manifest.json``.

    Raises:
        ArtifactError: The manifest is missing or unreadable, or a file is missing, extra, truncated or
            modified.
    """
    root = Path(directory)
    if not root.is_dir():
        raise ArtifactError(f"{root}: no such router artifact directory")
    try:
        manifest = msgspec.json.decode((root / MANIFEST).read_bytes(), type=Manifest)
    except FileNotFoundError:
        raise ArtifactError(f"{root}: no {MANIFEST}; not a router artifact (or an incomplete one)") from None
    except msgspec.DecodeError as exc:
        raise ArtifactError(f"{root / MANIFEST}: unreadable manifest: {exc}") from None
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {MANIFEST}
    extra = sorted(present - set(manifest.files))
    if extra:
        raise ArtifactError(f"{root}: files not in the manifest: {', '.join(extra)}; refusing to load")
    for name, entry in sorted(manifest.files.items()):
        path = root / name
        if not path.is_file():
            raise ArtifactError(f"{root}: {name} is listed in the manifest but missing")
        size = path.stat().st_size
        if size != entry.bytes:
            raise ArtifactError(
                f"{root}: {name} is truncated or altered ({size} bytes, expected {entry.bytes})"
            )
        if _sha256(path) != entry.sha256:
            raise ArtifactError(f"{root}: {name} fails its SHA-256 check; the artifact was modified")
    return manifest


def read_metadata(directory: str | Path) -> ArtifactMetadata:
    """Verify the artifact and decode its ``metadata.json``."""
    root = Path(directory)
    verify_artifact(root)
    try:
        metadata = msgspec.json.decode((root / METADATA).read_bytes(), type=ArtifactMetadata)
    except (FileNotFoundError, msgspec.DecodeError) as exc:
        raise ArtifactError(f"{root / METADATA}: unreadable metadata: {exc}") from None
    if metadata.format != FORMAT or metadata.version > FORMAT_VERSION:
        raise ArtifactError(
            f"{root}: format {metadata.format!r} v{metadata.version} is not supported "
            f"(this build reads {FORMAT!r} up to v{FORMAT_VERSION})"
        )
    return metadata


def _load_arrays(root: Path, prefix: str, names: tuple[str, ...]) -> dict[str, npt.NDArray[Any]]:
    out = {}
    for name in names:
        try:
            out[name] = np.load(root / "arrays" / f"{prefix}.{name}.npy", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"{root}: cannot read array {prefix}.{name}: {exc}") from None
    return out


def default_embedder_loaders() -> Mapping[str, EmbedderLoader]:
    """Embedder kind -> loader for the embedders the core ships (read-only).

    A :class:`FeatureEmbedder` is loaded with a hashing base; pass :func:`feature_embedder_loader`
    more base loaders to load it over other embedders.
    """
    base: dict[str, EmbedderLoader] = {HashingEmbedder.kind: HashingEmbedder.from_saved}
    return MappingProxyType({**base, FeatureEmbedder.kind: feature_embedder_loader(base)})


def load_router(
    directory: str | Path,
    *,
    index_factory: IndexFactory = numpy_index_factory,
    index_loaders: Mapping[str, IndexLoader] | None = None,
    embedder_loaders: Mapping[str, EmbedderLoader] | None = None,
) -> RoutingModel:
    """Verify and load an artifact written by :func:`save_router`.

    Args:
        directory: The artifact directory.
        index_factory: Builds the vector index when none was saved or no loader reads the saved one.
        index_loaders: Index kind -> loader for saved index files (the app passes faiss here).
        embedder_loaders: Embedder kind -> loader (default: the hashing embedder).

    Raises:
        ArtifactError: Verification failed, or the artifact names an unknown kind or lacks an array.
    """
    root = Path(directory)
    meta = read_metadata(root)
    loaders = embedder_loaders or default_embedder_loaders()
    if meta.embedder.kind not in loaders:
        raise ArtifactError(f"{root}: no loader for embedder kind {meta.embedder.kind!r}")
    embedder_arrays = _load_arrays(root, "embedder", meta.embedder.state)
    try:
        embedder = loaders[meta.embedder.kind](meta.embedder.config, embedder_arrays)
    except (KeyError, ValueError, TypeError) as exc:
        raise ArtifactError(f"{root}: cannot rebuild the {meta.embedder.kind!r} embedder: {exc}") from None
    index = None
    if meta.index is not None and index_loaders and meta.index.kind in index_loaders:
        index = index_loaders[meta.index.kind](root / meta.index.file)
    arrays = _load_arrays(root, "router", meta.router_arrays)
    try:
        router = rebuild_router(
            meta.kind, meta.models, meta.hyperparameters, arrays, RebuildContext(index, index_factory)
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise ArtifactError(f"{root}: cannot rebuild a {meta.kind!r} router: {exc}") from None
    cost_arrays = _load_arrays(root, "costs", ("intercept", "slope"))
    costs = CostModel(models=meta.models, intercept=cost_arrays["intercept"], slope=cost_arrays["slope"])
    info: dict[str, object] = {
        "training_table_hash": meta.training_table_hash,
        "created_at": meta.created_at,
        **meta.extra,
    }
    return RoutingModel(embedder=embedder, router=router, costs=costs, metadata=info)
