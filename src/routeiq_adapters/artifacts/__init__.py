"""Adapters of the router-artifact registry port: a directory (the default) and an S3-compatible bucket."""

from routeiq_adapters.artifacts.filesystem import FilesystemArtifactRegistry
from routeiq_adapters.artifacts.s3 import S3ArtifactRegistry

__all__ = ["FilesystemArtifactRegistry", "S3ArtifactRegistry"]
