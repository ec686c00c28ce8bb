//! Review of quarantined changes (issue 13): the list a supervisor or an
//! administrator reads, and the two decisions on a document's quarantined chunks.
//!
//! - **Who.** A supervisor signed in to the dashboard, for documents of their own
//!   sites (any other document is "not found", so ids of other sites cannot be
//!   probed), and `tern admin quarantine` on the server's host (every site). No
//!   other role, and no device token (a supervisor's hub included).
//! - **Release** merges the chunks without the check that failed. Each chunk is
//!   marked released (`quarantine_decisions`: decision, who, why, when) and moved
//!   to a new sequence number past the log's head, in one transaction with the
//!   access-log entry. The document's verified sequence never moves back, so no
//!   pull horizon moves below a cursor a device holds; the moved chunks are new
//!   again, the verifier judges them like any new chunk but does not hold their
//!   authors' write rights or status moves against them ([`exempt_authors`]), and
//!   pulls serve them to devices whose cursors had passed their old place. A chunk
//!   that fails for another reason (it does not load, the record moved site or
//!   names a form version the server lacks) is quarantined again: release is a
//!   decision about who may write, not about damaged data.
//! - **Reject** keeps the chunks out for good: they stay quarantined, marked
//!   rejected, and the document leaves the list. A device that pushes them again is
//!   acknowledged (they are stored already) and they stay out.
//!
//! Either way the reason typed by the reviewer is kept with the decision (at most
//! [`MAX_WHY`] characters; it must not carry health values, and the dashboard says
//! so), and the access log names the reviewer, the action and the document.

use crate::auth::Action;
use crate::db::{AuditEntry, Db};
use crate::service::{ApiError, ApiResult, Caller};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};
use tern_sync::protocol::ErrorCode;

/// Longest reason a reviewer may give.
pub const MAX_WHY: usize = 300;

/// One document's quarantined chunks waiting for a decision, as stored.
#[derive(Debug, Clone)]
pub struct Quarantined {
    pub doc_id: String,
    pub kind: String,
    pub site: String,
    pub reason: String,
    pub chunks: Vec<Vec<u8>>,
}

/// Release or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Choice {
    Release,
    Reject,
}

impl Choice {
    /// The mark stored on each chunk (`quarantine_decisions.decision`).
    pub fn mark(self) -> &'static str {
        match self {
            Choice::Release => "released",
            Choice::Reject => "rejected",
        }
    }

    /// The access-log action.
    pub fn action(self) -> &'static str {
        match self {
            Choice::Release => "quarantine_release",
            Choice::Reject => "quarantine_reject",
        }
    }
}

/// A decision as stored with each chunk.
#[derive(Debug, Clone)]
pub struct Decision {
    pub choice: Choice,
    pub actor: String,
    pub why: String,
    pub at: String,
}

/// A row of the list: names, never values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineEntry {
    pub doc: String,
    pub kind: String,
    pub site: String,
    /// Why the verifier quarantined it (names the user, role and field).
    pub reason: String,
    /// The accounts whose chunks are quarantined.
    pub authors: Vec<String>,
    /// How many chunks wait for a decision.
    pub changes: usize,
}

/// The body of a decision.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecisionRequest {
    pub reason: String,
}

/// What a decision did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decided {
    pub doc: String,
    pub decision: String,
    pub changes: u64,
}

/// Who decides.
#[derive(Debug, Clone, Copy)]
pub enum Reviewer<'a> {
    /// A signed-in account (the dashboard).
    Caller(&'a Caller),
    /// `tern admin quarantine` on the server's host.
    Cli,
}

/// The actor `tern admin` writes into decisions and the access log.
pub const CLI_ACTOR: &str = "tern-admin";

impl Reviewer<'_> {
    /// The sites this reviewer decides for (`None`: all), or why they may not.
    fn sites(&self) -> ApiResult<Option<&[String]>> {
        match self {
            Reviewer::Cli => Ok(None),
            Reviewer::Caller(c) => {
                c.require(Action::ReviewQuarantine, "review quarantined changes")?;
                if c.device.is_some() {
                    return Err(ApiError::new(
                        ErrorCode::Forbidden,
                        "quarantined changes are reviewed in the dashboard, signed in with \
                         your own password; not with a device's token",
                    ));
                }
                Ok(Some(&c.sites))
            }
        }
    }

    fn audit(&self, action: &str, site: &str, doc: &str) -> AuditEntry {
        match self {
            Reviewer::Caller(c) => c.audit(action, site, doc),
            Reviewer::Cli => AuditEntry {
                at: now_text(),
                actor: CLI_ACTOR.into(),
                role: "admin".into(),
                device: String::new(),
                site: site.into(),
                action: action.into(),
                object: doc.into(),
            },
        }
    }

    fn actor(&self) -> String {
        match self {
            Reviewer::Caller(c) => c.account.clone(),
            Reviewer::Cli => CLI_ACTOR.into(),
        }
    }
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A reviewer's reason: trimmed, 1 to [`MAX_WHY`] characters, one line.
pub fn check_why(why: &str) -> ApiResult<String> {
    let why = why.trim();
    if why.is_empty() {
        return Err(ApiError::bad(
            "say why (a few words: who asked for it, what was checked); never a health value",
        ));
    }
    if why.chars().count() > MAX_WHY || why.chars().any(char::is_control) {
        return Err(ApiError::bad(format!(
            "the reason is one line of at most {MAX_WHY} characters"
        )));
    }
    Ok(why.to_string())
}

/// The list row of a document: its authors read from the chunks' headers (a
/// change's actor, every actor of a whole document), never their contents.
pub fn entry(q: &Quarantined) -> QuarantineEntry {
    let limits = tern_record::ChunkLimits::default();
    let authors: BTreeSet<String> = crate::verify::chunk_authors(&q.chunks, &limits)
        .into_iter()
        .flat_map(|(_, users)| users)
        .filter(|u| !u.is_empty())
        .collect();
    QuarantineEntry {
        doc: q.doc_id.clone(),
        kind: q.kind.clone(),
        site: q.site.clone(),
        reason: q.reason.clone(),
        authors: authors.into_iter().collect(),
        changes: q.chunks.len(),
    }
}

/// The users whose writes the verifier does not check in this pass: those with at
/// least one released new chunk and no other new chunk (a released change does not
/// cover a later one of the same author that nobody reviewed).
pub fn exempt_authors(
    new_chunks: &[([u8; 32], BTreeSet<String>)],
    released: &HashSet<[u8; 32]>,
) -> BTreeSet<String> {
    let mut exempt = BTreeSet::new();
    let mut not = BTreeSet::new();
    for (hash, users) in new_chunks {
        let set = if released.contains(hash) {
            &mut exempt
        } else {
            &mut not
        };
        set.extend(users.iter().cloned());
    }
    exempt.retain(|u| !not.contains(u));
    exempt
}

/// The documents with quarantined chunks waiting for a decision that `reviewer`
/// may decide on.
pub async fn list<D: Db>(db: &D, reviewer: Reviewer<'_>) -> ApiResult<Vec<QuarantineEntry>> {
    let sites = reviewer.sites()?;
    let stored = db.quarantine_review(sites, None).await?;
    entries(stored).await
}

/// The rows of stored documents, read on the blocking pool; a chunk that makes
/// Automerge panic while its header is read counts with no author.
async fn entries(stored: Vec<Quarantined>) -> ApiResult<Vec<QuarantineEntry>> {
    crate::service::blocking(move || {
        stored
            .iter()
            .map(|q| {
                std::panic::catch_unwind(|| entry(q)).unwrap_or_else(|_| QuarantineEntry {
                    doc: q.doc_id.clone(),
                    kind: q.kind.clone(),
                    site: q.site.clone(),
                    reason: q.reason.clone(),
                    authors: Vec::new(),
                    changes: q.chunks.len(),
                })
            })
            .collect()
    })
    .await
}

/// Releases or rejects the quarantined chunks of `doc` waiting for a decision.
pub async fn decide<D: Db>(
    db: &D,
    reviewer: Reviewer<'_>,
    doc: &str,
    choice: Choice,
    why: &str,
) -> ApiResult<Decided> {
    let sites = reviewer.sites()?;
    if !tern_sync::protocol::valid_name(doc) {
        return Err(ApiError::bad(
            "a document id is 1 to 80 letters, digits, `-`, `_` or `.`",
        ));
    }
    let why = check_why(why)?;
    let not_found = || {
        ApiError::new(
            ErrorCode::NotFound,
            format!(
                "no quarantined changes of document `{doc}` wait for a decision{}",
                if sites.is_some() {
                    " at your sites"
                } else {
                    ""
                }
            ),
        )
    };
    let found = db.quarantine_review(sites, Some(doc)).await?;
    let Some(q) = found.first() else {
        return Err(not_found());
    };
    let decision = Decision {
        choice,
        actor: reviewer.actor(),
        why,
        at: now_text(),
    };
    let audit = reviewer.audit(choice.action(), &q.site, doc);
    let changes = db
        .decide_quarantine(doc, &decision, &audit)
        .await
        .map_err(|e| match e {
            crate::db::DbError::NotFound(_) => not_found(),
            other => other.into(),
        })?;
    tracing::info!(doc, decision = choice.mark(), changes, "quarantine decided");
    Ok(Decided {
        doc: doc.to_string(),
        decision: choice.mark().to_string(),
        changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn only_authors_whose_every_new_chunk_is_released_are_exempt() {
        let chunks = vec![
            ([1; 32], users(&["bilal"])),
            ([2; 32], users(&["amina"])),
            ([3; 32], users(&["chen"])),
            ([4; 32], users(&["chen"])),
        ];
        let released = HashSet::from([[1; 32], [3; 32]]);
        assert_eq!(exempt_authors(&chunks, &released), users(&["bilal"]));
        assert!(exempt_authors(&chunks, &HashSet::new()).is_empty());
    }

    #[test]
    fn a_reason_is_one_short_line() {
        assert_eq!(
            check_why("  asked by Dr A ").ok().as_deref(),
            Some("asked by Dr A")
        );
        assert!(check_why("   ").is_err());
        assert!(check_why("two\nlines").is_err());
        assert!(check_why(&"x".repeat(MAX_WHY + 1)).is_err());
    }
}
