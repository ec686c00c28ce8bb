//! tern-sync: the Tern sync protocol and its client.
//!
//! - [`protocol`]: versioned, framed, zstd-compressed, checksummed messages (serde +
//!   postcard), the error codes shared with the server, and the limits.
//! - [`plan`]: the sans-IO core: what the next round trip pushes, what a response
//!   means, when a sync is over. Testable without a network.
//! - [`client`]: enrolment and the sync loop over reqwest (rustls).
//! - [`bundle`]: bundle files (sealed, signed sync frames); [`device_bundle`]: a
//!   device's bundles to and from files.
//! - [`tls`]: extra trusted root certificates (`TERN_CA_CERT`, [`tls::trust_certificates_pem`]).
//!
//! The client side (`client`, `plan`, `device_bundle`, `tls`: reqwest and the device
//! store) is the cargo feature `client`. The workspace's dependency on tern-sync
//! leaves it off: the hub, the CLI, the app and the server's tests ask for it, the
//! server itself does not, so it takes neither an HTTP client nor the device store.
//!
//! Invariants:
//! - No server code here; the server depends on this crate, never the reverse.
//! - A decoder never trusts a byte before magic, version, lengths, decompression and
//!   checksum passed; oversized or damaged input is an error, never a panic.
//! - A sync never re-sends what the server acknowledged and never re-pulls what the
//!   device applied: both markers are durable in the store before the next round trip.
//! - Every loop is bounded ([`plan::MAX_ROUND_TRIPS`]).

pub mod bundle;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "client")]
pub mod device_bundle;
pub mod fuzzing;
#[cfg(feature = "client")]
pub mod plan;
pub mod protocol;
#[cfg(feature = "client")]
pub mod tls;

#[cfg(feature = "client")]
pub use client::{
    enrol, escrow_restricted_key, post_json, prove, round_trip, sync, sync_reporting, sync_with,
    SyncError, SyncOptions, SyncProgress,
};
#[cfg(feature = "client")]
pub use plan::SyncReport;
