//! tern-sync: the Tern sync protocol and its client.
//!
//! - [`protocol`]: versioned, framed, zstd-compressed, checksummed messages (serde +
//!   postcard), the error codes shared with the server, and the limits.
//! - [`plan`]: the sans-IO core: what the next round trip pushes, what a response
//!   means, when a sync is over. Testable without a network.
//! - [`client`]: enrolment and the sync loop over reqwest (rustls).
//! - [`tls`]: extra trusted root certificates (`TERN_CA_CERT`, [`tls::trust_certificates_pem`]).
//!
//! Invariants:
//! - No server code here; the server depends on this crate, never the reverse.
//! - A decoder never trusts a byte before magic, version, lengths, decompression and
//!   checksum passed; oversized or damaged input is an error, never a panic.
//! - A sync never re-sends what the server acknowledged and never re-pulls what the
//!   device applied: both markers are durable in the store before the next round trip.
//! - Every loop is bounded ([`plan::MAX_ROUND_TRIPS`]).

pub mod bundle;
pub mod client;
pub mod device_bundle;
pub mod fuzzing;
pub mod plan;
pub mod protocol;
pub mod tls;

pub use client::{
    enrol, escrow_restricted_key, post_json, prove, round_trip, sync, sync_reporting, sync_with,
    SyncError, SyncOptions, SyncProgress,
};
pub use plan::SyncReport;
