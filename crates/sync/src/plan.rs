//! The sans-IO core of a sync: what to push in the next round trip, what a response
//! means (acknowledgement, cursor, whether to go on), and when the sync is over.
//! It does no I/O and keeps no clock; the client feeds it the pending changes the
//! store gave it and the server's answers, and carries out the steps it returns.
//!
//! One sync is a loop of round trips; each carries one push page (possibly empty)
//! and brings back one pull page. A sync with nothing new is one round trip whose
//! request is the cursor and an empty push.

use crate::protocol::{DocChanges, Kind, SyncRequest, SyncResponse, PULL_PAGE_BYTES};
use serde::Serialize;
use serde_bytes::ByteBuf;
use tern_store::{OutgoingChange, OutgoingPage};

/// Upper bound on round trips of one sync, so no loop is endless whatever a server
/// answers: 100,000 × 2 MiB pages is far more than any device holds.
pub const MAX_ROUND_TRIPS: u32 = 100_000;

/// Counters of one sync, printed by `tern device sync`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Chunks pushed: changes, and whole documents (a record the server never had
    /// travels as one compacted document).
    pub pushed_changes: u64,
    /// Of the pushed chunks, whole documents.
    pub pushed_documents: u64,
    /// Of the pushed changes, those the server did not have.
    pub server_new_changes: u64,
    /// Chunks pulled (changes and whole documents).
    pub pulled_changes: u64,
    /// Pulled changes this device did not have.
    pub applied_changes: u64,
    pub pulled_documents: u64,
    pub forms: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub round_trips: u32,
    pub cursor: u64,
}

/// Why a response cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the server acknowledged {acked} of {sent} pushed changes; a page is all or nothing")]
    PartialAck { acked: u32, sent: u32 },
    #[error("the server moved the cursor back from {from} to {to}")]
    CursorBack { from: u64, to: u64 },
    #[error("the sync did not finish within {0} round trips")]
    TooManyRoundTrips(u32),
}

/// A request ready to send, with what it covers.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub request: SyncRequest,
    /// The local sequence of the last change in the push page, if any.
    pub push_upto: Option<i64>,
    /// Chunks in the push page (changes and whole documents).
    pub push_count: u32,
    /// Of those, whole documents.
    pub push_documents: u32,
}

/// What to do with a response, in order: note the acknowledgement, apply the pull
/// page and move the cursor (one store transaction), then go on or stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub ack_upto: Option<i64>,
    pub cursor: u64,
    /// The server has more to pull.
    pub more: bool,
}

/// Groups changes (in local order) into per-document runs, keeping the order of
/// changes within a document, which is causal order for changes made here.
pub fn group(changes: &[OutgoingChange]) -> Vec<DocChanges> {
    let mut out: Vec<DocChanges> = Vec::new();
    for c in changes {
        let kind = Kind::from(c.kind);
        match out.last_mut() {
            Some(last) if last.doc == c.doc_id && last.kind == kind => {
                last.changes.push(ByteBuf::from(c.bytes.clone()))
            }
            _ => out.push(DocChanges {
                doc: c.doc_id.clone(),
                kind,
                site: c.site.clone(),
                changes: vec![ByteBuf::from(c.bytes.clone())],
                summary: None,
            }),
        }
    }
    out
}

/// One sync in progress.
#[derive(Debug, Clone)]
pub struct Session {
    cursor: u64,
    pull_bytes: u32,
    accounts_version: u64,
    report: SyncReport,
}

impl Session {
    /// Starts from the device's durable cursor.
    pub fn new(cursor: u64) -> Session {
        Session {
            cursor,
            pull_bytes: PULL_PAGE_BYTES as u32,
            accounts_version: 0,
            report: SyncReport {
                cursor,
                ..SyncReport::default()
            },
        }
    }

    /// The version of the account list the device holds.
    pub fn with_accounts_version(mut self, version: u64) -> Session {
        self.accounts_version = version;
        self
    }

    /// Asks for smaller pull pages (slow links, tests of interrupted syncs).
    pub fn with_pull_bytes(mut self, bytes: u32) -> Session {
        self.pull_bytes = bytes;
        self
    }

    /// The next request: this push page (already cut to size by the store) and the
    /// cursor.
    pub fn request(&mut self, page: &OutgoingPage) -> Result<Outgoing, PlanError> {
        if self.report.round_trips >= MAX_ROUND_TRIPS {
            return Err(PlanError::TooManyRoundTrips(MAX_ROUND_TRIPS));
        }
        Ok(Outgoing {
            request: SyncRequest {
                cursor: self.cursor,
                push: group(&page.chunks),
                max_pull_bytes: self.pull_bytes,
                accounts_version: self.accounts_version,
            },
            push_upto: page.upto,
            push_count: page.chunks.len() as u32,
            push_documents: page.documents as u32,
        })
    }

    /// Takes a response to `sent` that carried `bytes_sent` / `bytes_received` on the
    /// wire.
    pub fn on_response(
        &mut self,
        sent: &Outgoing,
        response: &SyncResponse,
        bytes_sent: u64,
        bytes_received: u64,
    ) -> Result<Step, PlanError> {
        if response.acked != sent.push_count {
            return Err(PlanError::PartialAck {
                acked: response.acked,
                sent: sent.push_count,
            });
        }
        if response.cursor < self.cursor {
            return Err(PlanError::CursorBack {
                from: self.cursor,
                to: response.cursor,
            });
        }
        let r = &mut self.report;
        r.round_trips += 1;
        r.bytes_sent += bytes_sent;
        r.bytes_received += bytes_received;
        r.pushed_changes += u64::from(sent.push_count);
        r.pushed_documents += u64::from(sent.push_documents);
        r.server_new_changes += u64::from(response.stored_new);
        r.pulled_documents += response.docs.len() as u64;
        r.pulled_changes += response
            .docs
            .iter()
            .map(|d| d.changes.len() as u64)
            .sum::<u64>();
        r.forms += response.forms.len() as u64;
        self.cursor = response.cursor;
        r.cursor = response.cursor;
        if let Some(a) = &response.accounts {
            self.accounts_version = a.version;
        }
        Ok(Step {
            ack_upto: sent.push_upto,
            cursor: response.cursor,
            more: response.more,
        })
    }

    /// Counts changes the store found new when applying a pull page.
    pub fn applied(&mut self, new_changes: usize) {
        self.report.applied_changes += new_changes as u64;
    }

    /// Whether the sync is over after `step`, given whether local changes are still
    /// unacknowledged.
    pub fn finished(&self, step: &Step, still_pending: bool) -> bool {
        !step.more && !still_pending
    }

    pub fn report(&self) -> &SyncReport {
        &self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tern_record::DocKind;

    fn change(seq: i64, doc: &str, len: usize) -> OutgoingChange {
        OutgoingChange {
            local_seq: seq,
            doc_id: doc.into(),
            kind: DocKind::Record,
            site: "s".into(),
            bytes: vec![seq as u8; len],
        }
    }

    fn page(chunks: Vec<OutgoingChange>) -> OutgoingPage {
        OutgoingPage {
            upto: chunks.last().map(|c| c.local_seq),
            chunks,
            documents: 0,
        }
    }

    fn response(acked: u32, cursor: u64, more: bool) -> SyncResponse {
        SyncResponse {
            acked,
            stored_new: acked,
            forms: vec![],
            config: vec![],
            docs: vec![],
            cursor,
            more,
            head: cursor,
            accounts: None,
        }
    }

    #[test]
    fn grouping_keeps_order_and_runs() {
        let cs = [
            change(1, "a", 1),
            change(2, "a", 1),
            change(3, "b", 1),
            change(4, "a", 1),
        ];
        let g = group(&cs);
        let docs: Vec<(&str, usize)> = g
            .iter()
            .map(|d| (d.doc.as_str(), d.changes.len()))
            .collect();
        assert_eq!(docs, vec![("a", 2), ("b", 1), ("a", 1)]);
    }

    #[test]
    fn nothing_new_is_one_round_trip() {
        let mut s = Session::new(10);
        let out = s.request(&page(vec![])).expect("req");
        assert!(out.request.push.is_empty());
        assert_eq!(out.request.cursor, 10);
        let step = s
            .on_response(&out, &response(0, 12, false), 50, 60)
            .expect("step");
        assert_eq!(step.ack_upto, None);
        assert!(s.finished(&step, false));
        assert_eq!(s.report().round_trips, 1);
        assert_eq!(s.report().cursor, 12);
    }

    #[test]
    fn acks_cursor_and_continuation() {
        let mut s = Session::new(0);
        let out = s
            .request(&page(vec![change(5, "a", 10), change(9, "b", 10)]))
            .expect("req");
        let step = s
            .on_response(&out, &response(2, 100, true), 1, 1)
            .expect("step");
        assert_eq!(step.ack_upto, Some(9));
        assert!(!s.finished(&step, false), "more to pull");
        let out = s.request(&page(vec![])).expect("req");
        assert_eq!(out.request.cursor, 100);
        let step = s
            .on_response(&out, &response(0, 150, false), 1, 1)
            .expect("step");
        assert!(!s.finished(&step, true), "more to push");
        assert!(s.finished(&step, false));
        assert_eq!(s.report().pushed_changes, 2);
    }

    #[test]
    fn a_partial_ack_or_a_cursor_going_back_is_refused() {
        let mut s = Session::new(50);
        let out = s.request(&page(vec![change(1, "a", 1)])).expect("req");
        assert!(matches!(
            s.on_response(&out, &response(0, 50, false), 0, 0),
            Err(PlanError::PartialAck { .. })
        ));
        assert!(matches!(
            s.on_response(&out, &response(1, 49, false), 0, 0),
            Err(PlanError::CursorBack { .. })
        ));
    }
}
