"""Router versions in an S3-compatible bucket (AWS S3, MinIO, Ceph, moto): shared by every node.

boto3 (the ``s3`` extra) is imported when the adapter is built, and its blocking calls run on worker
threads, each bounded by the configured timeouts. Version numbers are claimed with a conditional
write (``If-None-Match: *``) of a marker object before any file is uploaded, so two publishers never
share a number; ``version.json`` is written last and marks a version complete.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import anyio

from routeiq_adapters.artifacts._layout import (
    ARTIFACT,
    CANARY_FILE,
    PROMOTED_FILE,
    PROMOTIONS,
    VERSION_FILE,
    VERSIONS,
    artifact_files,
    decode_canary,
    decode_promotion,
    decode_version,
    encode,
    fetched_matches,
    new_version,
    parse_version,
    version_dir,
)
from routeiq_core.errors import NotFoundError
from routeiq_core.routing.learned.artifact_registry import (
    ArtifactVersion,
    Canary,
    Lineage,
    Promotion,
    RegistryError,
    check_name,
)

_CLAIM = "claimed"


def _errors() -> tuple[type[Exception], Any]:
    """The base botocore error and ``ClientError`` (imported only when the adapter is used)."""
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    return BotoCoreError, ClientError


T = TypeVar("T")


class S3ArtifactRegistry:
    """The S3 adapter of the ``ArtifactRegistry`` port.

    Args:
        bucket: The bucket.
        prefix: Key prefix of the registry inside it (``routers/``).
        endpoint_url: A non-AWS endpoint (MinIO, moto); None: AWS.
        region: The region.
        access_key_id: Credentials (None: boto3's usual chain: environment, profile, instance role).
        secret_access_key: Credentials.
        timeout_s: Connect and read timeout of each request.
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        import boto3  # type: ignore[import-untyped]
        from botocore.config import Config  # type: ignore[import-untyped]

        self._bucket = bucket
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        config = Config(connect_timeout=timeout_s, read_timeout=timeout_s, retries={"max_attempts": 2})
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )

    def __repr__(self) -> str:
        return f"S3ArtifactRegistry(bucket={self._bucket!r}, prefix={self._prefix!r})"

    async def publish(
        self, name: str, artifact: Path, *, report: Mapping[str, Any] | None, lineage: Lineage
    ) -> ArtifactVersion:
        """Upload the verified ``artifact`` as the next version of ``name``."""
        return await self._run(self._publish, check_name(name), Path(artifact), report, lineage)

    async def names(self) -> list[str]:
        """Every name with a complete version."""
        return await self._run(self._names)

    async def versions(self, name: str) -> list[ArtifactVersion]:
        """The complete versions of ``name``, oldest first."""
        return await self._run(self._versions, check_name(name))

    async def fetch(self, name: str, version: int, into: Path) -> Path:
        """Download a version under ``into/<name>/<version>`` (reused when a verified copy is there)."""
        return await self._run(self._fetch, check_name(name), version, Path(into))

    async def promoted(self, name: str) -> Promotion | None:
        """The current promotion of ``name``."""
        data = await self._run(self._get, f"{self._prefix}{check_name(name)}/{PROMOTED_FILE}")
        return decode_promotion(data) if data is not None else None

    async def promote(self, name: str, version: int, *, by: str, reason: str) -> Promotion:
        """Point ``name`` at an existing version, recording the promotion."""
        return await self._run(self._promote, check_name(name), version, by, reason)

    async def history(self, name: str) -> list[Promotion]:
        """Every promotion of ``name``, oldest first."""
        return await self._run(self._history, check_name(name))

    async def start_canary(self, canary: Canary) -> None:
        """Put a version on trial (it must exist)."""
        await self._run(self._start_canary, canary)

    async def canary(self, name: str) -> Canary | None:
        """The running canary of ``name``."""
        data = await self._run(self._get, f"{self._prefix}{check_name(name)}/{CANARY_FILE}")
        return decode_canary(data) if data is not None else None

    async def end_canary(self, name: str, candidate: int) -> bool:
        """End the canary of ``candidate``: a conditional delete on its ETag, so one caller wins."""
        return await self._run(self._end_canary, check_name(name), candidate)

    def _start_canary(self, canary: Canary) -> None:
        name = check_name(canary.name)
        self._version(name, canary.candidate)  # 404 for a version that does not exist
        self._client.put_object(
            Bucket=self._bucket, Key=f"{self._prefix}{name}/{CANARY_FILE}", Body=encode(canary)
        )

    def _end_canary(self, name: str, candidate: int) -> bool:
        _, ClientError = _errors()
        key = f"{self._prefix}{name}/{CANARY_FILE}"
        try:
            found = self._client.get_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return False
            raise
        if decode_canary(found["Body"].read()).candidate != candidate:
            return False
        try:
            self._client.delete_object(Bucket=self._bucket, Key=key, IfMatch=found["ETag"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412", "NoSuchKey", "404"):
                return False
            raise
        return True

    async def _run(self, work: Callable[..., T], *args: Any) -> T:
        BotoCoreError, ClientError = _errors()
        try:
            return await anyio.to_thread.run_sync(work, *args)
        except (BotoCoreError, ClientError) as exc:
            raise RegistryError(f"router registry s3://{self._bucket}/{self._prefix}: {exc}") from exc

    def _key(self, name: str, version: int, *parts: str) -> str:
        return "/".join((f"{self._prefix}{name}", VERSIONS, version_dir(version), *parts))

    def _get(self, key: str) -> bytes | None:
        _, ClientError = _errors()
        try:
            body: bytes = self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return body

    def _list(self, prefix: str, delimiter: str | None = None) -> tuple[list[str], list[str]]:
        """Keys and common prefixes under ``prefix`` (every page)."""
        keys: list[str] = []
        prefixes: list[str] = []
        options: dict[str, Any] = {"Bucket": self._bucket, "Prefix": prefix}
        if delimiter is not None:
            options["Delimiter"] = delimiter
        for page in self._client.get_paginator("list_objects_v2").paginate(**options):
            keys.extend(item["Key"] for item in page.get("Contents", ()))
            prefixes.extend(item["Prefix"] for item in page.get("CommonPrefixes", ()))
        return keys, prefixes

    def _numbers(self, name: str) -> list[int]:
        _, prefixes = self._list(f"{self._prefix}{name}/{VERSIONS}/", "/")
        found = (parse_version(p.rstrip("/").rsplit("/", 1)[-1]) for p in prefixes)
        return sorted(v for v in found if v is not None)

    def _claim(self, name: str) -> int:
        _, ClientError = _errors()
        number = max(self._numbers(name), default=0) + 1
        while True:
            try:
                self._client.put_object(
                    Bucket=self._bucket, Key=self._key(name, number, _CLAIM), Body=b"", IfNoneMatch="*"
                )
                return number
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "412"):
                    raise
                number += 1

    def _publish(
        self, name: str, artifact: Path, report: Mapping[str, Any] | None, lineage: Lineage
    ) -> ArtifactVersion:
        digest, files = artifact_files(artifact)
        number = self._claim(name)
        for relative in files:
            self._client.upload_file(
                str(artifact / relative), self._bucket, self._key(name, number, ARTIFACT, relative)
            )
        record = new_version(name, number, digest, report, lineage)
        self._client.put_object(
            Bucket=self._bucket, Key=self._key(name, number, VERSION_FILE), Body=encode(record)
        )
        return record

    def _names(self) -> list[str]:
        _, prefixes = self._list(self._prefix, "/")
        names = [p[len(self._prefix) :].rstrip("/") for p in prefixes]
        return sorted(n for n in names if self._versions(n))

    def _versions(self, name: str) -> list[ArtifactVersion]:
        found = []
        for number in self._numbers(name):
            data = self._get(self._key(name, number, VERSION_FILE))
            if data is not None:
                found.append(decode_version(data))
        return found

    def _version(self, name: str, version: int) -> ArtifactVersion:
        data = self._get(self._key(name, version, VERSION_FILE))
        if data is None:
            raise NotFoundError(f"{name!r} has no version {version}.", code="router_version_not_found")
        return decode_version(data)

    def _fetch(self, name: str, version: int, into: Path) -> Path:
        record = self._version(name, version)
        target = into / name / version_dir(version)
        if fetched_matches(target, record.digest):
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            base = self._key(name, version, ARTIFACT) + "/"
            keys, _ = self._list(base)
            for key in keys:
                local = staging / key[len(base) :]
                local.parent.mkdir(parents=True, exist_ok=True)
                self._client.download_file(self._bucket, key, str(local))
            if not fetched_matches(staging, record.digest):
                raise RegistryError(
                    f"{name!r} version {version} in the bucket fails its checksum; not loaded"
                )
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target

    def _promote(self, name: str, version: int, by: str, reason: str) -> Promotion:
        self._version(name, version)  # 404 for a version that does not exist
        current_data = self._get(f"{self._prefix}{name}/{PROMOTED_FILE}")
        current = decode_promotion(current_data) if current_data is not None else None
        promotion = Promotion(
            name=name,
            version=version,
            previous=current.version if current is not None else None,
            at=time.time(),
            by=by,
            reason=reason,
        )
        data = encode(promotion)
        key = f"{self._prefix}{name}/{PROMOTIONS}/{promotion.at:017.6f}-{version_dir(version)}.json"
        self._client.put_object(Bucket=self._bucket, Key=key, Body=data)
        self._client.put_object(Bucket=self._bucket, Key=f"{self._prefix}{name}/{PROMOTED_FILE}", Body=data)
        return promotion

    def _history(self, name: str) -> list[Promotion]:
        keys, _ = self._list(f"{self._prefix}{name}/{PROMOTIONS}/")
        found = (self._get(key) for key in sorted(keys))
        return [decode_promotion(data) for data in found if data is not None]
