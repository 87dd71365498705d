"""Building the router-artifact registry, the watcher of promotions and the canary judge."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

from routeiq_adapters.artifacts import FilesystemArtifactRegistry, S3ArtifactRegistry
from routeiq_app.exploration_setup import stop_background
from routeiq_app.model_routing import ModelRouting
from routeiq_app.settings import Settings
from routeiq_app.settings.registry import RouterRegistrySettings
from routeiq_core.audit import AuditEvent
from routeiq_core.audit.trail import AuditTrail
from routeiq_core.calls.rollout import CanaryJudge, PromotionWatcher
from routeiq_core.feedback import FeedbackStore
from routeiq_core.routing.learned.artifact_registry import ArtifactRegistry, Canary
from routeiq_core.routing.learned.canary import CanaryVerdict


def artifact_registry(config: RouterRegistrySettings) -> ArtifactRegistry:
    """The configured registry (a directory, or an S3-compatible bucket)."""
    if config.backend == "s3":
        return S3ArtifactRegistry(
            config.s3_bucket or "",
            prefix=config.s3_prefix,
            endpoint_url=config.s3_endpoint_url,
            region=config.s3_region,
            access_key_id=config.s3_access_key_id,
            secret_access_key=config.s3_secret_access_key,
            timeout_s=config.timeout_s,
        )
    return FilesystemArtifactRegistry(config.path)


def promotion_watcher(settings: Settings, routing: ModelRouting) -> PromotionWatcher | None:
    """The watcher of the registry-backed routed names (None when there are none)."""
    names = routing.registry_names
    if not names:
        return None
    config = settings.routing.registry
    return PromotionWatcher(
        artifact_registry(config), names, routing.routed, routing.load_version, Path(config.cache_dir)
    )


def canary_judge(
    settings: Settings, routing: ModelRouting, feedback: FeedbackStore, audit: AuditTrail
) -> CanaryJudge | None:
    """The judge of the registry-backed routed names' canaries (None when there are none)."""
    names = routing.registry_names
    if not names:
        return None

    async def decided(canary: Canary, found: CanaryVerdict) -> None:
        await audit.record(
            AuditEvent(
                at=time.time(),
                action="router.canary",
                target=canary.name,
                details={
                    "decision": found.decision,
                    "candidate": canary.candidate,
                    "incumbent": canary.incumbent,
                    "reason": found.reason,
                    "candidate_calls": found.candidate.n,
                    "incumbent_calls": found.incumbent.n,
                },
            )
        )

    return CanaryJudge(artifact_registry(settings.routing.registry), names, feedback, decided)


async def run_promotion_watcher(
    watcher: PromotionWatcher | None, judge: CanaryJudge | None, settings: Settings
) -> AsyncIterator[PromotionWatcher | None]:
    """Container Resource: load the promoted versions, then follow promotions and judge canaries.

    The first sync runs before the gateway serves. A name whose promoted version cannot be loaded
    at startup answers 503 ``router_not_loaded`` until a later poll loads one (the error is
    logged); the other names serve.
    """
    if watcher is None:
        yield None
        return
    await watcher.sync()
    config = settings.routing.registry
    # Tasks of their own, not a task group: the container ends this generator from another task.
    tasks = [asyncio.create_task(watcher.watch(config.poll_interval_s))]
    if judge is not None:
        tasks.append(asyncio.create_task(judge.watch(config.canary_check_interval_s)))
    try:
        yield watcher
    finally:
        for task in tasks:
            await stop_background(task, "router registry")
