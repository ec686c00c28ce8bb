//! tern-record: the record model, shared by the device store, the sync protocol, the
//! server and the app. What a record, its restricted twin and a subject look like as
//! Automerge documents ([`doc`]), reading chunks within bounds ([`chunk`]), the
//! FORMS.md 2.2 permissions of each [`Role`], the record workflow ([`workflow`]),
//! which fields and statuses changes write ([`writes`]), a document's projection
//! ([`summary`]), the server's view of a record ([`server_view`]), where a field's
//! answer lives ([`fields`]), search folding ([`fold`]), the password rule
//! ([`password`]) and the built-in forms ([`builtin`]).
//!
//! Invariant: pure, like tern-forms. No I/O, no clock, no randomness: callers pass
//! bytes, documents and times. Knows nothing of SQLite, HTTP or Tauri.

pub mod builtin;
pub mod chunk;
pub mod doc;
mod error;
pub mod fields;
pub mod fold;
pub mod fuzzing;
pub mod password;
pub mod roles;
pub mod server_view;
pub mod summary;
pub mod workflow;
pub mod writes;

pub use chunk::{
    apply_chunks, apply_chunks_within, check_size, chunk_kind, document_actors, document_hash,
    load_chunks, load_chunks_within, ChunkError, ChunkKind, ChunkLimits, LoadError,
};
pub use doc::{Conflict, ConflictValue, DocKind, HistoryEntry};
pub use error::{RecordError, Result};
pub use fold::{fold, skeleton};
pub use roles::Role;
pub use server_view::{
    account_picks_since, document_answers, document_has_conflict, document_root, evaluation_values,
    is_identity_path, is_restricted_path, names_account, record_input, AccountPick, RecordInput,
};
pub use summary::{summarize, summarize_since, DocSummary};
pub use workflow::{
    may_set_status, remote_status_moves, status_change, status_moves, StatusMove, STATUSES,
};
pub use writes::{
    changed_parts, current_status_writes, field_writes, ChangedParts, FieldWrite, StatusWrite,
};
