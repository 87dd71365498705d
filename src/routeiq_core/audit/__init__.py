"""The tamper-evident audit log of admin and security events.

Entries are canonical JSON, each carrying the previous entry's hash (:mod:`.chain`), under an RFC 6962
Merkle tree (:mod:`.merkle`) whose heads are signed C2SP checkpoints (:mod:`.note`). The store and
the external checkpoint sink are ports (:mod:`.store`); signing is the :class:`CheckpointSigner`
port (Ed25519 in :mod:`routeiq_adapters.audit`). The rest of the core records through
:class:`AuditTrail`; :func:`verify_log` checks a whole log offline.
"""

from routeiq_core.access.audited import Outcome
from routeiq_core.audit.canonical import canonical_json, is_canonical
from routeiq_core.audit.chain import (
    GENESIS,
    AuditEntry,
    ChainHead,
    EntryBody,
    entry_bytes,
    entry_hash,
    extend,
)
from routeiq_core.audit.checkpoints import Checkpointer
from routeiq_core.audit.event import SYSTEM_ACTOR, AuditEvent, actor_name, event_by
from routeiq_core.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    leaf_hash,
    node_hash,
    root_of,
    verify_consistency,
)
from routeiq_core.audit.note import (
    Checkpoint,
    CheckpointSigner,
    NoteError,
    NoteSignature,
    NoteVerifier,
    format_vkey,
    is_key_name,
    key_hash,
    open_note,
    parse_checkpoint,
    parse_note,
    parse_vkey,
    sign_note,
    split_notes,
)
from routeiq_core.audit.store import (
    MAX_PAGE,
    AuditQuery,
    AuditStore,
    AuditStoreError,
    CheckpointSink,
    StoredCheckpoint,
)
from routeiq_core.audit.tally import Tally
from routeiq_core.audit.trail import READ_PERMISSION, AuditTrail, acting_from
from routeiq_core.audit.verify import VerifyResult, verify_log

__all__ = [
    "EMPTY_ROOT",
    "GENESIS",
    "MAX_PAGE",
    "READ_PERMISSION",
    "SYSTEM_ACTOR",
    "AuditEntry",
    "AuditEvent",
    "AuditQuery",
    "AuditStore",
    "AuditStoreError",
    "AuditTrail",
    "ChainHead",
    "Checkpoint",
    "CheckpointSigner",
    "CheckpointSink",
    "Checkpointer",
    "EntryBody",
    "Frontier",
    "NoteError",
    "NoteSignature",
    "NoteVerifier",
    "Outcome",
    "StoredCheckpoint",
    "Tally",
    "VerifyResult",
    "acting_from",
    "actor_name",
    "canonical_json",
    "consistency_proof",
    "entry_bytes",
    "entry_hash",
    "event_by",
    "extend",
    "format_vkey",
    "is_canonical",
    "is_key_name",
    "key_hash",
    "leaf_hash",
    "node_hash",
    "open_note",
    "parse_checkpoint",
    "parse_note",
    "parse_vkey",
    "root_of",
    "sign_note",
    "split_notes",
    "verify_consistency",
    "verify_log",
]
