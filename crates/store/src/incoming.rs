//! Applying pulled pages (a sync's answers, a bundle's pages): forms, configuration
//! tables and documents in one transaction each, with the chosen peer's cursor. A
//! pulled change is marked as from a peer, so it is never pushed back.

use crate::chunk::{chunk_kind, document_hash, ChunkKind};
use crate::error::{Result, StoreError};
use crate::store::{restricted_id, Kind, Store};
use automerge::Change;
use rusqlite::params;
use serde::Serialize;
use tern_record::{DocKind, DocSummary};

/// A document's chunks (changes and whole documents) received from the server, with
/// the server's summary of the document when it has verified it.
#[derive(Debug, Clone)]
pub struct IncomingDoc {
    pub doc_id: String,
    pub kind: DocKind,
    pub changes: Vec<Vec<u8>>,
    pub summary: Option<DocSummary>,
}

/// A form version (definition + translations as `(file name, text)`) from the server.
#[derive(Debug, Clone)]
pub struct IncomingForm {
    pub definition: String,
    pub translations: Vec<(String, String)>,
}

/// What applying a pulled page did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PullApplied {
    pub documents: usize,
    pub new_changes: usize,
    pub forms: usize,
}

/// A pulled document's chunks, sorted by kind.
#[derive(Default)]
struct Chunks {
    documents: Vec<Vec<u8>>,
    changes: Vec<Change>,
}

impl Store {
    /// Applies one pulled page in one transaction: forms first, then each document's
    /// chunks, then the cursor. A document this device has never held that arrives
    /// whole with the server's summary is stored as received and listed from the
    /// summary (no load, no merge); anything else is merged and projected. All or
    /// nothing: a damaged chunk leaves the store and the cursor as they were.
    pub fn apply_pulled(
        &mut self,
        forms: Vec<IncomingForm>,
        config: Vec<(String, String)>,
        docs: Vec<IncomingDoc>,
        cursor: i64,
    ) -> Result<PullApplied> {
        self.ensure_sync_schema()?;
        let mut parsed = Vec::with_capacity(docs.len());
        for d in docs {
            let mut chunks = Chunks::default();
            for raw in d.changes {
                let bad = |e: &dyn std::fmt::Display| {
                    StoreError::BadDocument(d.doc_id.clone(), format!("pulled chunk: {e}"))
                };
                match chunk_kind(&raw).map_err(|e| bad(&e))? {
                    ChunkKind::Document => chunks.documents.push(raw),
                    ChunkKind::Change => {
                        chunks
                            .changes
                            .push(Change::from_bytes(raw).map_err(|e| bad(&e))?);
                    }
                }
            }
            parsed.push((d.doc_id, d.kind, chunks, d.summary));
        }
        self.in_tx(|s| {
            let mut report = PullApplied::default();
            for (name, text) in &config {
                s.conn.execute(
                    "INSERT OR REPLACE INTO config_tables(name, text) VALUES (?1, ?2)",
                    params![name, text],
                )?;
            }
            for f in &forms {
                let head: serde_json::Value = serde_json::from_str(&f.definition)
                    .map_err(|e| StoreError::BadPulledForm(format!("is not JSON: {e}")))?;
                let (Some(id), Some(version)) =
                    (head["form_id"].as_str(), head["version"].as_str())
                else {
                    return Err(StoreError::BadPulledForm(
                        "has no form_id or version".into(),
                    ));
                };
                let translations = serde_json::to_string(&f.translations)
                    .map_err(|e| StoreError::encode("translations", e))?;
                report.forms += s.conn.execute(
                    "INSERT OR IGNORE INTO forms(form_id, version, definition, translations)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![id, version, f.definition, translations],
                )?;
            }
            for (id, kind, chunks, summary) in parsed {
                if kind == DocKind::Restricted && !s.holds_restricted_key() {
                    // Sealed as it arrives, merged by a holder's session (sealed.rs).
                    report.new_changes +=
                        s.stash_sealed(&id, &chunks.documents, chunks.changes, summary.as_ref())?;
                    report.documents += 1;
                    continue;
                }
                let fresh = s.doc_kind(&id)?.is_none();
                let new = match (fresh, summary, chunks.documents.as_slice()) {
                    (true, Some(summary), [document]) => {
                        s.store_as_received(&id, kind, document, chunks.changes, &summary)?
                    }
                    _ => {
                        let hashes: Vec<Vec<u8>> =
                            chunks.changes.iter().map(|c| c.hash().0.to_vec()).collect();
                        let merged =
                            s.merge_changes(&id, kind, &chunks.documents, chunks.changes)?;
                        for h in hashes.iter().chain(&merged.from_documents) {
                            s.mark_from_server(&id, h)?;
                        }
                        merged.stored
                    }
                };
                report.documents += 1;
                report.new_changes += new;
            }
            s.advance_cursor(cursor)?;
            Ok(report)
        })
    }

    /// Stores a document this device has never held as the server sent it: the whole
    /// document as its snapshot, later changes as rows, the projection from the
    /// server's summary. Marked as pulled so it is never pushed back.
    fn store_as_received(
        &mut self,
        id: &str,
        kind: Kind,
        document: &[u8],
        changes: Vec<Change>,
        summary: &DocSummary,
    ) -> Result<usize> {
        let summary_fits = matches!(
            (kind, summary),
            (Kind::Record, DocSummary::Record { .. })
                | (Kind::Restricted, DocSummary::Restricted { .. })
                | (Kind::Subject, DocSummary::Subject { .. })
        );
        if !summary_fits {
            return Err(StoreError::BadDocument(
                id.into(),
                "the server's summary is of another kind of document".into(),
            ));
        }
        let stored = self.seal_blob(id, document)?;
        self.conn.execute(
            "INSERT INTO docs(doc_id, kind, snapshot, rev) VALUES (?1, ?2, ?3, 1)",
            params![id, kind.name(), stored],
        )?;
        self.conn.execute(
            "INSERT INTO sync_log(doc_id, hash, from_server) VALUES (?1, ?2, 1)
             ON CONFLICT(doc_id, hash) DO UPDATE SET from_server = 1",
            params![id, document_hash(document).to_vec()],
        )?;
        let n = changes.len();
        for c in &changes {
            self.insert_change_row(id, &c.hash().0, c.raw_bytes())?;
            self.mark_from_server(id, &c.hash().0)?;
        }
        let twin = restricted_id(id);
        let twin_conflict = kind == Kind::Record
            && self.can_read(&twin)
            && self.doc_kind(&twin)?.is_some()
            && self
                .doc(&twin)?
                .is_some_and(|t| crate::doc::has_conflict(t, "answers"));
        self.write_summary(id, summary, twin_conflict)?;
        Ok(n + 1)
    }

    fn mark_from_server(&self, id: &str, hash: &[u8]) -> Result<()> {
        self.conn.execute(
            "INSERT INTO sync_log(doc_id, hash, from_server) VALUES (?1, ?2, 1)
             ON CONFLICT(doc_id, hash) DO UPDATE SET from_server = 1",
            params![id, hash],
        )?;
        Ok(())
    }
}
