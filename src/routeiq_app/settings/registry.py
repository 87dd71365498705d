"""Router-artifact registry settings (``routing.registry``): where versions live, how often to look."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from routeiq_app.settings.base import PositiveFloat, _Section


class RouterRegistrySettings(_Section, frozen=True):
    """Versions of trained routers (`routeiq routers ...`); a routed name may serve the promoted one."""

    backend: Annotated[
        Literal["filesystem", "s3"],
        Meta(description="`filesystem`: a directory (`path`); `s3`: an S3-compatible bucket (`s3_bucket`)."),
    ] = "filesystem"
    path: Annotated[str, Meta(description="The registry directory (`filesystem`).")] = "routeiq-routers"
    s3_bucket: Annotated[str | None, Meta(description="The bucket (`s3`).")] = None
    s3_prefix: Annotated[str, Meta(description="Key prefix of the registry in the bucket.")] = "routers"
    s3_endpoint_url: Annotated[
        str | None, Meta(description="A non-AWS endpoint (MinIO, Ceph, moto); unset: AWS S3.")
    ] = None
    s3_region: Annotated[str, Meta(description="The bucket's region.")] = "us-east-1"
    s3_access_key_id: Annotated[
        str | None,
        Meta(
            description="Access key (`os.environ/NAME`); unset: boto3's chain (environment, profile, role)."
        ),
    ] = None
    s3_secret_access_key: Annotated[str | None, Meta(description="Secret key (`os.environ/NAME`).")] = None
    timeout_s: Annotated[PositiveFloat, Meta(description="Timeout of each registry request.")] = 10.0
    cache_dir: Annotated[
        str, Meta(description="Where a gateway keeps the versions it fetched from a bucket.")
    ] = "routeiq-router-cache"
    poll_interval_s: Annotated[
        PositiveFloat,
        Meta(
            description="How often each worker checks the promoted version of its registry-backed routed "
            "names and hot-swaps a newly promoted one (every worker converges within it; no reload)."
        ),
    ] = 10.0
    canary_check_interval_s: Annotated[
        PositiveFloat,
        Meta(
            description="How often a worker tests a running canary (`routeiq routers canary`) on the "
            "feedback collected so far, and promotes or rolls back when the test decides."
        ),
    ] = 30.0

    def __post_init__(self) -> None:
        if self.backend == "s3" and not self.s3_bucket:
            raise ValueError("s3_bucket is required when backend is s3")
