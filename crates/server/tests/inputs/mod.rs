//! Issue 13: every input bounded, precise quarantine. One module per finding.

mod audit;
mod bombs;
mod exhaustion;
mod passwords;
mod quarantine;
mod quarantine_review;
mod record_view;
mod sessions;
