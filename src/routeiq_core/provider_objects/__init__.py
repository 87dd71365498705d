"""Files and batches living with providers: ownership records, their store port, the use case."""

from routeiq_core.provider_objects.records import (
    MAX_OBJECT_ID_CHARS,
    MAX_PAGE,
    MAX_SNAPSHOT_BYTES,
    ObjectKind,
    ObjectOwnershipStore,
    ObjectStoreError,
    OwnedObject,
    may_access,
    owner_of,
    sees_everything,
)
from routeiq_core.provider_objects.service import ObjectCaller, ObjectPage, ProviderObjects

__all__ = [
    "MAX_OBJECT_ID_CHARS",
    "MAX_PAGE",
    "MAX_SNAPSHOT_BYTES",
    "ObjectCaller",
    "ObjectKind",
    "ObjectOwnershipStore",
    "ObjectPage",
    "ObjectStoreError",
    "OwnedObject",
    "ProviderObjects",
    "may_access",
    "owner_of",
    "sees_everything",
]
