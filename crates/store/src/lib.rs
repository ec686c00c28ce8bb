//! tern-store: records and subjects as Automerge documents in an encrypted SQLite
//! (SQLCipher) database, with field-level merge, conflicts, history and projections.
//!
//! Invariants:
//! - Encrypted at rest, always: the database is opened only with the raw 32-byte data
//!   key, which exists on disk only wrapped per user (Argon2id + XChaCha20-Poly1305)
//!   in `<db>.keys`. There is no unencrypted mode.
//! - A write returns only after its SQLite transaction committed with WAL and
//!   `synchronous=FULL`: an acknowledged save survives power loss.
//! - One Automerge change per answer (never per keystroke), with actor
//!   `tern:<device>:<user>`, a time and a message naming the field; the edit path
//!   appends change rows and never saves a whole document. [`Store::compact`] folds
//!   rows into a snapshot from time to time.
//! - Projection tables (records, subjects) change in the same transaction as the
//!   documents and can be rebuilt from them ([`Store::rebuild_projections`]); lists
//!   and search read projections only.
//! - Concurrent different values are never silently dropped: they are reported as
//!   conflicts until someone allowed by FORMS.md 2.2 resolves them; consent fields
//!   meanwhile take the most restrictive value.
//! - Identity data lives only in subject documents (and the subject search
//!   projection), never in record documents; restricted sections live in a second
//!   document per record.
//! - No health data in errors or logs: messages name fields and records, not values.
//! - The store knows SQLite and Automerge; it knows nothing of HTTP or Tauri.
//!
//! The record model itself (document layout, chunks, roles, workflow, summaries,
//! built-in forms) is tern-record's, pure; the store keeps its documents, keys and
//! projections on disk.

mod alerts;
mod app;
mod db;
mod enrolment;
mod error;
mod exchange;
mod ids;
mod import;
mod incoming;
mod keys;
mod outgoing;
mod peers;
mod proof;
mod records;
mod sealed;
mod store;
mod subjects;
mod summary;
mod sync_state;
mod unsynced;

// The record model (tern-record), re-exported at the paths it had in this crate, so
// that every user of tern-store compiles unchanged. Inside the store, `crate::doc`,
// `crate::chunk`, ... name tern-record's modules.
pub use tern_record::{builtin, fuzzing, password};
use tern_record::{chunk, doc, roles, workflow};

pub use alerts::AlertRow;
pub use app::{local_users, RecordInfo, RecordList};
pub use enrolment::{Enrolment, PeerExtras, PeerRefusal, SyncPeer};
pub use error::{Coding, ImportLineError, Result, SearchGap, StoreError};
pub use exchange::{ExportReport, ImportReport};
pub use ids::parse_subject_id;
pub use import::{ImportRefusal, RecordImportReport};
pub use incoming::{IncomingDoc, IncomingForm, PullApplied};
pub use keys::{database_key, key_path};
pub use outgoing::{OutgoingChange, OutgoingPage};
pub use peers::PeerRow;
pub use records::{RecordFilter, RecordRow, RecordView};
pub use sealed::RestrictedKeyPair;
pub use store::{Store, COMPACT_AFTER};
pub use subjects::{SubjectHit, SubjectQuery};
pub use sync_state::SyncStatus;
pub use tern_record::chunk::{
    apply_chunks, apply_chunks_within, check_size, chunk_kind, document_actors, document_hash,
    load_chunks, load_chunks_within, ChunkError, ChunkKind, ChunkLimits, LoadError,
};
pub use tern_record::doc::{Conflict, ConflictValue, HistoryEntry};
pub use tern_record::fold::{fold, skeleton};
pub use tern_record::roles::Role;
pub use tern_record::server_view::{
    account_picks_since, evaluation_values, is_identity_path, is_restricted_path, names_account,
    record_input, AccountPick, RecordInput,
};
pub use tern_record::server_view::{document_answers, document_has_conflict, document_root};
pub use tern_record::summary::{summarize, summarize_since, DocSummary};
pub use tern_record::workflow::{
    may_set_status, remote_status_moves, status_change, status_moves, StatusMove, STATUSES,
};
pub use tern_record::writes::{
    changed_parts, current_status_writes, field_writes, ChangedParts, FieldWrite, StatusWrite,
};
pub use tern_record::{DocKind, RecordError};
pub use unsynced::{recover_unsynced, RecoverReport};
