//! Bounds on what callers may make the server do (issue 13): how far a pushed
//! Automerge chunk may inflate, how long a client may take to send its request, how
//! many connections and requests one source address and everyone together may hold,
//! how often sign-in may be tried, how long an idle session lives. Every bound has a
//! default; `tern serve` takes them from its options.

use std::time::Duration;
pub use tern_record::ChunkLimits;

/// Every configurable bound of a running server.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// How far a chunk may inflate (8 MiB per change, 64 MiB per document).
    pub chunks: ChunkLimits,
    /// Time a client has to send a request's headers (slow clients are cut off).
    pub header_timeout: Duration,
    /// Time a client has to send a request's body once its headers arrived.
    pub body_timeout: Duration,
    /// Open connections, all sources together.
    pub connections: usize,
    /// Open connections from one source address.
    pub connections_per_address: usize,
    /// Sign-in attempts (and enrolment attempts) one source address may make per
    /// minute, whatever the names tried.
    pub logins_per_address_per_minute: u32,
    /// Sign-in and enrolment attempts per minute from all sources together (each
    /// costs an Argon2id hash or a database write before the caller is known).
    pub logins_per_minute: u32,
    /// A sign-in session ends after this long without a request.
    pub session_idle: Duration,
    /// How long a shutdown waits for requests in flight before closing them.
    pub drain: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            chunks: ChunkLimits::default(),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            connections: 1024,
            connections_per_address: 64,
            logins_per_address_per_minute: 20,
            logins_per_minute: 300,
            session_idle: Duration::from_secs(30 * 60),
            drain: Duration::from_secs(30),
        }
    }
}
