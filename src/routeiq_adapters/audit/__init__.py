"""Audit log adapters: stores (memory, SQLite, PostgreSQL), Ed25519 checkpoint keys, the file copy."""

from routeiq_adapters.audit.ed25519 import Ed25519CheckpointSigner, Ed25519NoteVerifier
from routeiq_adapters.audit.file_sink import FileCheckpointSink
from routeiq_adapters.audit.memory import InMemoryAuditStore
from routeiq_adapters.audit.postgres import PostgresAuditStore
from routeiq_adapters.audit.sqlite import SQLiteAuditStore

__all__ = [
    "Ed25519CheckpointSigner",
    "Ed25519NoteVerifier",
    "FileCheckpointSink",
    "InMemoryAuditStore",
    "PostgresAuditStore",
    "SQLiteAuditStore",
]
