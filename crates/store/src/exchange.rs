//! Change files: every change this store has, to merge into another store of the same
//! deployment (a support tool; the encrypted carrier between sites is the bundle).
//!
//! Format: a header line `TERN-CHANGES 1 <sha256 of body, hex> <body length>` then a
//! JSON body `{"docs": [{"id", "kind", "changes": [hex, ...]}]}`. A truncated or
//! altered file fails the length or hash check, and each change is checked again by
//! Automerge (its own checksum and hash chain). Nothing is written unless the whole
//! file is sound; importing is idempotent and accepts changes in any order (changes
//! whose dependencies have not arrived are kept as rows until they do).

use crate::error::{Result, StoreError};
use crate::store::{Kind, Store};
use automerge::{Change, ChangeHash, ReadDoc};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::Path;

const MAGIC: &str = "TERN-CHANGES";

#[derive(Debug, Serialize, Deserialize)]
struct Body {
    docs: Vec<DocChanges>,
}

#[derive(Debug, Serialize, Deserialize)]
struct DocChanges {
    id: String,
    kind: String,
    changes: Vec<String>,
}

/// What an import did.
/// What merging into one document did.
#[derive(Debug, Default)]
pub(crate) struct Merged {
    /// Changes this store did not have.
    pub stored: usize,
    /// Of those, changes waiting for dependencies.
    pub waiting: usize,
    /// Hashes of the changes that came inside whole documents.
    pub from_documents: Vec<Vec<u8>>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub documents: usize,
    /// Changes this store did not have before.
    pub new_changes: usize,
    /// Changes waiting for changes they depend on.
    pub waiting: usize,
}

/// What an export wrote.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportReport {
    pub documents: usize,
    pub changes: usize,
}

fn valid_doc_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 80
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
}

impl Store {
    /// Writes every change of every document the acting user may hold to `out`.
    pub fn export_changes(&mut self, out: &Path) -> Result<ExportReport> {
        self.role.require(self.role.may_read(), "export changes")?;
        let ids: Vec<(String, String)> = {
            let mut stmt = self
                .conn
                .prepare("SELECT doc_id, kind FROM docs ORDER BY doc_id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut report = ExportReport::default();
        let mut docs = Vec::new();
        for (id, kind) in ids {
            if kind == Kind::Restricted.name() && !self.may_see_restricted() {
                continue;
            }
            let doc = self.load_from_db(&id)?;
            let mut seen = BTreeSet::new();
            let mut changes = Vec::new();
            for c in doc.get_changes(&[]) {
                seen.insert(c.hash());
                changes.push(hex::encode(c.raw_bytes()));
            }
            // Rows still waiting for their dependencies travel too.
            let mut stmt = self
                .conn
                .prepare("SELECT hash, bytes FROM changes WHERE doc_id = ?1")?;
            let rows = stmt.query_map([&id], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?;
            for row in rows {
                let (h, bytes) = row?;
                if ChangeHash::try_from(h.as_slice()).is_ok_and(|h| !seen.contains(&h)) {
                    changes.push(hex::encode(bytes));
                }
            }
            report.changes += changes.len();
            report.documents += 1;
            docs.push(DocChanges { id, kind, changes });
        }
        let body = serde_json::to_vec(&Body { docs })
            .map_err(|e| StoreError::Refused(format!("cannot encode changes: {e}")))?;
        let header = format!(
            "{MAGIC} 1 {} {}\n",
            hex::encode(Sha256::digest(&body)),
            body.len()
        );
        let mut bytes = header.into_bytes();
        bytes.extend_from_slice(&body);
        crate::keys::write_atomic(out, &bytes)?;
        Ok(report)
    }

    /// Merges a change file. All or nothing: a damaged file changes nothing.
    pub fn import_changes(&mut self, file: &Path) -> Result<ImportReport> {
        self.role.require(self.role.may_read(), "import changes")?;
        let bytes = std::fs::read(file).map_err(|e| StoreError::io(file, e))?;
        let docs = parse_file(&bytes).map_err(|reason| StoreError::BadChangeFile {
            path: file.to_path_buf(),
            reason,
        })?;
        let report = self.in_tx(|s| {
            let mut report = ImportReport::default();
            for (id, kind, changes) in docs {
                if kind == Kind::Restricted && !s.may_see_restricted() {
                    continue;
                }
                let crate::exchange::Merged {
                    stored: new,
                    waiting,
                    ..
                } = s.merge_changes(&id, kind, &[], changes)?;
                report.documents += 1;
                report.new_changes += new;
                report.waiting += waiting;
            }
            Ok(report)
        })?;
        self.compact(crate::store::COMPACT_AFTER)?;
        Ok(report)
    }

    /// Applies whole documents and changes to one document inside the open
    /// transaction. Returns how many changes were new, how many wait for
    /// dependencies, and the hashes of the changes that came inside `documents`.
    pub(crate) fn merge_changes(
        &mut self,
        id: &str,
        kind: Kind,
        documents: &[Vec<u8>],
        changes: Vec<Change>,
    ) -> Result<Merged> {
        if let Some(existing) = self.doc_kind(id)? {
            if existing != kind {
                return Err(StoreError::Refused(format!(
                    "document {id} is a {} here but a {} in the file",
                    existing.name(),
                    kind.name()
                )));
            }
        }
        let bad = |e: &dyn std::fmt::Display| StoreError::BadDocument(id.into(), e.to_string());
        let mut doc = self.take_doc(id)?.unwrap_or_default();
        let mut merged = Merged::default();
        if !documents.is_empty() {
            let before = doc.get_heads();
            for d in documents {
                doc.load_incremental(d).map_err(|e| bad(&e))?;
            }
            for c in doc.get_changes(&before) {
                merged.stored += self.conn.execute(
                    "INSERT OR IGNORE INTO changes(doc_id, hash, bytes) VALUES (?1, ?2, ?3)",
                    params![id, c.hash().0.to_vec(), c.raw_bytes()],
                )?;
                merged.from_documents.push(c.hash().0.to_vec());
            }
        }
        let fresh: Vec<Change> = changes
            .into_iter()
            .filter(|c| doc.get_change_by_hash(&c.hash()).is_none())
            .collect();
        let mut new_hashes = Vec::new();
        for c in &fresh {
            merged.stored += self.conn.execute(
                "INSERT OR IGNORE INTO changes(doc_id, hash, bytes) VALUES (?1, ?2, ?3)",
                params![id, c.hash().0.to_vec(), c.raw_bytes()],
            )?;
            new_hashes.push(c.hash());
        }
        doc.apply_changes(fresh).map_err(|e| bad(&e))?;
        merged.waiting = new_hashes
            .iter()
            .filter(|h| doc.get_change_by_hash(h).is_none())
            .count();
        self.put_doc(id, kind, doc, &[])?;
        match kind {
            Kind::Record => self.project_record(id)?,
            Kind::Restricted => {
                if let Some(record) = id.strip_suffix(".restricted") {
                    self.project_record(record)?;
                }
            }
            Kind::Subject => self.project_subject(id)?,
        }
        Ok(merged)
    }

    pub(crate) fn doc_kind(&self, id: &str) -> Result<Option<Kind>> {
        use rusqlite::OptionalExtension;
        let kind: Option<String> = self
            .conn
            .query_row("SELECT kind FROM docs WHERE doc_id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(kind.and_then(|k| Kind::parse(&k)))
    }

    /// Rebuilds every projection row from the documents.
    pub fn rebuild_projections(&mut self) -> Result<usize> {
        let ids: Vec<(String, String)> = {
            let mut stmt = self.conn.prepare("SELECT doc_id, kind FROM docs")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        self.in_tx(|s| {
            s.conn
                .execute_batch("DELETE FROM records; DELETE FROM subjects; DELETE FROM alerts; DELETE FROM alert_revs;")?;
            let mut n = 0;
            for (id, kind) in &ids {
                match Kind::parse(kind) {
                    Some(Kind::Record) => s.project_record(id)?,
                    Some(Kind::Subject) => s.project_subject(id)?,
                    _ => continue,
                }
                n += 1;
            }
            Ok(n)
        })
    }
}

type Parsed = Vec<(String, Kind, Vec<Change>)>;

/// Checks and decodes a change file; the error says what is wrong with it.
fn parse_file(bytes: &[u8]) -> std::result::Result<Parsed, String> {
    let newline = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or("it has no header line (not a tern change file, or truncated)")?;
    let header = std::str::from_utf8(&bytes[..newline]).map_err(|_| "the header is not text")?;
    let parts: Vec<&str> = header.split(' ').collect();
    let [magic, version, hash, len] = parts.as_slice() else {
        return Err("the header is not `TERN-CHANGES 1 <sha256> <length>`".into());
    };
    if *magic != MAGIC || *version != "1" {
        return Err(format!(
            "not a tern change file of version 1 (found `{magic} {version}`)"
        ));
    }
    let body = &bytes[newline + 1..];
    let len: usize = len
        .parse()
        .map_err(|_| "the header length is not a number")?;
    if body.len() != len {
        return Err(format!(
            "it is truncated or padded: the header promises {len} bytes, the file has {}",
            body.len()
        ));
    }
    if hex::encode(Sha256::digest(body)) != *hash {
        return Err("its content does not match its SHA-256 (altered or damaged)".into());
    }
    let body: Body =
        serde_json::from_slice(body).map_err(|e| format!("its body is not valid: {e}"))?;
    let mut out = Vec::new();
    for d in body.docs {
        if !valid_doc_id(&d.id) {
            return Err("a document id is malformed".into());
        }
        let kind =
            Kind::parse(&d.kind).ok_or_else(|| format!("document {} has unknown kind", d.id))?;
        let mut changes = Vec::new();
        for (i, h) in d.changes.iter().enumerate() {
            let raw = hex::decode(h)
                .map_err(|_| format!("change {i} of document {} is not hex", d.id))?;
            let c = Change::from_bytes(raw)
                .map_err(|e| format!("change {i} of document {} is damaged: {e}", d.id))?;
            changes.push(c);
        }
        out.push((d.id, kind, changes));
    }
    Ok(out)
}
