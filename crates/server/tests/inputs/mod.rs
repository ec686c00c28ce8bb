//! Issue 13: every input bounded, precise quarantine. One module per finding.

mod bombs;
mod exhaustion;
mod passwords;
mod sessions;
