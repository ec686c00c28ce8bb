//! Push pages: this device's own changes that the chosen peer has not acknowledged,
//! in local order, cut by bytes; a document the peer never received from this device
//! travels whole (compacted) instead of change by change. Changes of unproven users
//! and restricted changes this session cannot read stay behind (proof.rs, sealed.rs).

use crate::error::{Result, StoreError};
use crate::roles::Role;
use crate::store::{Kind, Store};
use automerge::{ChangeHash, ReadDoc};
use rusqlite::{params, OptionalExtension};
use tern_record::DocKind;

/// One Automerge chunk not yet acknowledged by the server: a change, or a whole
/// document the server has never seen from this device.
#[derive(Debug, Clone)]
pub struct OutgoingChange {
    pub local_seq: i64,
    pub doc_id: String,
    pub kind: DocKind,
    /// The site of the document, as this device knows it.
    pub site: String,
    pub bytes: Vec<u8>,
}

/// One push page: its chunks, and the local sequence it covers up to (a whole
/// document covers every queued change of that document in the page).
#[derive(Debug, Clone, Default)]
pub struct OutgoingPage {
    pub chunks: Vec<OutgoingChange>,
    /// The push marker once the server acknowledged this page; `None` when empty.
    pub upto: Option<i64>,
    /// How many of the chunks are whole documents.
    pub documents: usize,
}

/// What a push page is built against: the acknowledged marker, the page's byte
/// budget and the unproven users whose changes stay on the device.
#[derive(Clone, Copy)]
struct PageCut<'a> {
    after: i64,
    max_bytes: usize,
    unproven: &'a std::collections::HashSet<String>,
}

/// `(local seq, doc id, hash)` of a queued change.
type PendingRow = (i64, String, Vec<u8>);

impl Store {
    /// The next push page: unacknowledged local changes after `after` (a local
    /// sequence), in order, until their bytes reach `max_bytes` (always at least one
    /// chunk, however large). A record or subject the server has never received from
    /// this device (none of its changes acknowledged, none pulled) travels as one
    /// compacted document instead of its changes: a fraction of the bytes, and one
    /// row instead of one per change on both sides.
    pub fn pending_changes(&mut self, after: i64, max_bytes: usize) -> Result<OutgoingPage> {
        if !self.synced()? {
            return Ok(OutgoingPage::default());
        }
        self.sort_sealed_queue()?;
        let after = after.max(self.push_acked()?);
        // Nothing from the first change of an unproven user on (order is kept).
        let unproven = self.unproven_users()?;
        let held = self.held_from(after, &unproven)?.unwrap_or(i64::MAX);
        let mut page = OutgoingPage::default();
        let mut size = 0;
        let mut whole_sent: std::collections::HashSet<String> = Default::default();
        let mut from = after;
        // Rows in batches until the page is full: a page is cut by bytes only.
        loop {
            let mut rows = self.pending_rows(from)?;
            let whole_batch = rows.len();
            rows.retain(|r| r.0 < held);
            // A twin change this session cannot read, written by another connection
            // since the queue was sorted (sealed.rs): the page stops before it, and the
            // next page sets it aside.
            if let Some(at) = rows.iter().position(|r| !self.can_read(&r.1)) {
                rows.truncate(at);
            }
            let stopped = rows.len() < whole_batch;
            let Some(last) = rows.last().map(|r| r.0) else {
                break;
            };
            from = last;
            if !self.fill_page(
                &mut page,
                &mut size,
                &mut whole_sent,
                rows,
                &PageCut {
                    after,
                    max_bytes,
                    unproven: &unproven,
                },
            )? || stopped
            {
                break;
            }
        }
        Ok(page)
    }

    /// The next queued rows after local sequence `from`.
    fn pending_rows(&self, from: i64) -> Result<Vec<PendingRow>> {
        // Bytes and kind are looked up only for rows that travel as changes: most
        // rows of a first sync are inside a whole document and only skipped.
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, doc_id, hash FROM sync_log
             WHERE seq > ?1 AND from_server = 0 ORDER BY seq LIMIT 4096",
        )?;
        let rows = stmt.query_map([from], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Adds rows to the page; `false` once the page is full.
    fn fill_page(
        &mut self,
        page: &mut OutgoingPage,
        size: &mut usize,
        whole_sent: &mut std::collections::HashSet<String>,
        rows: Vec<PendingRow>,
        cut: &PageCut<'_>,
    ) -> Result<bool> {
        let PageCut {
            after,
            max_bytes,
            unproven,
        } = *cut;
        for (seq, doc_id, hash) in rows {
            if whole_sent.contains(&doc_id) {
                // Already inside the whole document this page carries.
                page.upto = Some(seq);
                continue;
            }
            let kind = self
                .doc_kind(&doc_id)?
                .ok_or_else(|| StoreError::BadDocument(doc_id.clone(), "unknown kind".into()))?;
            let whole = if self.new_to_server(&doc_id, after)? {
                self.whole_document(&doc_id, kind, unproven)?
            } else {
                None
            };
            let (bytes, is_whole) = match whole {
                Some(doc) => (doc, true),
                None => (self.queued_change(&doc_id, &hash)?, false),
            };
            if !page.chunks.is_empty() && *size + bytes.len() > max_bytes {
                return Ok(false);
            }
            *size += bytes.len();
            if is_whole {
                whole_sent.insert(doc_id.clone());
                page.documents += 1;
            }
            let site = self.doc_site(&doc_id, kind)?;
            page.upto = Some(seq);
            page.chunks.push(OutgoingChange {
                local_seq: seq,
                doc_id,
                kind,
                site,
                bytes,
            });
        }
        Ok(true)
    }

    /// Whether no change of this document was ever acknowledged by or pulled from the
    /// server (so the server holds nothing of it from this device). Two index
    /// lookups, whatever the document's length.
    fn new_to_server(&self, doc_id: &str, acked: i64) -> Result<bool> {
        let (first, pulled): (Option<i64>, bool) = self.conn.query_row(
            "SELECT (SELECT min(seq) FROM sync_log WHERE doc_id = ?1),
                    EXISTS(SELECT 1 FROM sync_log WHERE doc_id = ?1 AND from_server = 1)",
            [doc_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(first.is_some_and(|f| f > acked) && !pulled)
    }

    /// A queued change's bytes: its row, or (folded by compaction) from the document.
    pub(crate) fn queued_change(&mut self, doc_id: &str, hash: &[u8]) -> Result<Vec<u8>> {
        let row: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT bytes FROM changes WHERE doc_id = ?1 AND hash = ?2",
                params![doc_id, hash],
                |r| r.get(0),
            )
            .optional()?;
        match row {
            Some(bytes) => self.open_blob(doc_id, bytes),
            None => self.change_from_doc(doc_id, hash),
        }
    }

    /// The document as one compacted chunk: its snapshot, after folding any change
    /// rows into it. `None` when changes wait for dependencies, or when a restricted
    /// twin has an author who may not write restricted sections (a screener's empty
    /// skeleton: the server can tell it from a write only change by change).
    fn whole_document(
        &mut self,
        doc_id: &str,
        kind: Kind,
        unproven: &std::collections::HashSet<String>,
    ) -> Result<Option<Vec<u8>>> {
        if self.change_rows(doc_id)? > 0 {
            self.fold_doc(doc_id)?;
            if self.change_rows(doc_id)? > 0 {
                return Ok(None);
            }
        }
        let snapshot: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT snapshot FROM docs WHERE doc_id = ?1",
                [doc_id],
                |r| r.get::<_, Option<Vec<u8>>>(0),
            )
            .optional()?
            .flatten()
            .map(|bytes| self.open_blob(doc_id, bytes))
            .transpose()?;
        match snapshot {
            Some(bytes) if kind == Kind::Restricted && !self.restricted_authors_only(&bytes)? => {
                Ok(None)
            }
            // An unproven user's changes are held back: they cannot travel inside it.
            Some(bytes) if Store::has_unproven_author(&bytes, unproven) => Ok(None),
            other => Ok(other),
        }
    }

    /// Whether every author of a document is a local user whose role may write
    /// restricted sections.
    fn restricted_authors_only(&self, document: &[u8]) -> Result<bool> {
        let Ok(actors) = crate::chunk::document_actors(document) else {
            return Ok(false);
        };
        for actor in actors {
            let author = crate::doc::Author::from_actor(&automerge::ActorId::from(actor));
            let role: Option<String> = self
                .conn
                .query_row(
                    "SELECT role FROM users WHERE name = ?1",
                    [&author.user],
                    |r| r.get(0),
                )
                .optional()?;
            match role.as_deref().and_then(|r| Role::parse(r).ok()) {
                Some(r) if r.may_see_restricted() => {}
                _ => return Ok(false),
            }
        }
        Ok(true)
    }

    fn change_from_doc(&mut self, doc_id: &str, hash: &[u8]) -> Result<Vec<u8>> {
        let hash = ChangeHash::try_from(hash)
            .map_err(|_| StoreError::BadDocument(doc_id.into(), "bad change hash".into()))?;
        let doc = self
            .doc(doc_id)?
            .ok_or_else(|| StoreError::BadDocument(doc_id.into(), "missing".into()))?;
        let change = doc.get_change_by_hash(&hash).ok_or_else(|| {
            StoreError::BadDocument(doc_id.into(), "a queued change is gone".into())
        })?;
        Ok(change.raw_bytes().to_vec())
    }

    /// The site a document belongs to: a record's own site, a restricted twin's
    /// record's, a subject's the device's (subjects carry no site).
    fn doc_site(&self, doc_id: &str, kind: Kind) -> Result<String> {
        let record = match kind {
            Kind::Record => Some(doc_id),
            Kind::Restricted => doc_id.strip_suffix(".restricted"),
            Kind::Subject => None,
        };
        if let Some(record) = record {
            let site: Option<String> = self
                .conn
                .query_row(
                    "SELECT site FROM records WHERE record_id = ?1",
                    [record],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(site) = site {
                return Ok(site);
            }
        }
        Ok(self.site.clone())
    }
}
