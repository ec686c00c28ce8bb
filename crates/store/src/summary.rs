//! What the list and search screens need from one document (its projection row),
//! derived from that document alone. The store writes its projection tables from a
//! summary; the server computes the same summary when it verifies a document and
//! sends it with a whole document the device has never seen, so the device lists
//! the record without loading it (about a millisecond per record saved on a first
//! sync of thousands).

use crate::doc;
use crate::fold::{fold, skeleton};
use crate::store::{restricted_id, Store};
use crate::subjects::normalise_document;
use crate::sync_state::DocKind;
use crate::Result;
use automerge::Automerge;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as J};

/// The projection of one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocSummary {
    Record {
        form_id: String,
        form_version: String,
        subject_id: String,
        site: String,
        status: String,
        created: String,
        /// Open conflicts in this document (its restricted twin adds its own).
        conflict: bool,
    },
    Restricted {
        conflict: bool,
    },
    Subject {
        subject_id: String,
        display_name: String,
        date_of_birth: Option<String>,
        /// Document numbers and case references, normalised for search.
        documents: String,
        sex: Option<String>,
        merged_into: Option<String>,
        conflict: bool,
        created: String,
    },
}

/// The summary of a document, or `None` while its creation has not arrived.
pub fn summarize(kind: DocKind, d: &Automerge) -> Option<DocSummary> {
    let root = |k: &str| doc::root_str(d, k);
    match kind {
        DocKind::Record => Some(DocSummary::Record {
            form_id: root("form_id")?,
            form_version: root("form_version")?,
            subject_id: root("subject_id").unwrap_or_default(),
            site: root("site").unwrap_or_default(),
            status: root("status").unwrap_or_else(|| "draft".into()),
            created: root("created").unwrap_or_default(),
            conflict: doc::has_conflict(d, "answers"),
        }),
        DocKind::Restricted => Some(DocSummary::Restricted {
            conflict: doc::has_conflict(d, "answers"),
        }),
        DocKind::Subject => {
            let subject_id = root("subject_id")?;
            let fields = doc::read_answers(d, "fields");
            let identity = doc::read_answers(d, "identity");
            let text =
                |m: &Map<String, J>, k: &str| m.get(k).and_then(J::as_str).map(str::to_string);
            let names: Vec<String> = ["given_name", "other_names", "family_name"]
                .iter()
                .filter_map(|k| text(&identity.answers, k))
                .collect();
            let documents = ["document_number", "case_ref"]
                .iter()
                .filter_map(|k| text(&identity.answers, k))
                .map(|d| normalise_document(&d))
                .collect::<Vec<_>>()
                .join(" ");
            Some(DocSummary::Subject {
                subject_id,
                display_name: names.join(" "),
                date_of_birth: text(&fields.answers, "date_of_birth"),
                documents,
                sex: text(&fields.answers, "sex"),
                merged_into: root("merged_into"),
                conflict: !fields.conflicts.is_empty() || !identity.conflicts.is_empty(),
                created: root("created").unwrap_or_default(),
            })
        }
    }
}

/// The summary of a record or restricted twin after new changes, from its summary
/// before them and what they touched ([`crate::changed_parts`]): when they touched
/// only top-level answers of a document without conflicts, only those answers are
/// read again (the verifier's cost per change into a loaded record); anything else
/// is summarised whole.
pub fn summarize_since(
    kind: DocKind,
    d: &Automerge,
    before: &DocSummary,
    changed: &crate::ChangedParts,
) -> Option<DocSummary> {
    let quick = !changed.root && !changed.nested;
    let conflict = || {
        changed
            .writes
            .iter()
            .any(|w| doc::key_has_conflict(d, "answers", &w.field))
    };
    match (kind, before) {
        (
            DocKind::Record,
            DocSummary::Record {
                conflict: false, ..
            },
        ) if quick => {
            let mut after = before.clone();
            if let DocSummary::Record { conflict: c, .. } = &mut after {
                *c = conflict();
            }
            Some(after)
        }
        (DocKind::Restricted, DocSummary::Restricted { conflict: false }) if quick => {
            Some(DocSummary::Restricted {
                conflict: conflict(),
            })
        }
        _ => summarize(kind, d),
    }
}

impl Store {
    /// Writes the projection row of document `id` from its summary. A record's row
    /// also shows its restricted twin's conflicts (`twin_conflict`); a twin's summary
    /// only ever raises its record's conflict flag.
    pub(crate) fn write_summary(
        &mut self,
        id: &str,
        summary: &DocSummary,
        twin_conflict: bool,
    ) -> Result<()> {
        match summary {
            DocSummary::Record {
                form_id,
                form_version,
                subject_id,
                site,
                status,
                created,
                conflict,
            } => {
                let updated = self.now().to_rfc3339();
                self.conn.execute(
                    "INSERT INTO records(record_id, form_id, form_version, subject_id, site, status, conflict, created, updated)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT(record_id) DO UPDATE SET form_id = ?2, form_version = ?3, subject_id = ?4,
                       site = ?5, status = ?6, conflict = ?7, updated = ?9",
                    params![
                        id,
                        form_id,
                        form_version,
                        subject_id,
                        site,
                        status,
                        *conflict || twin_conflict,
                        created,
                        updated
                    ],
                )?;
            }
            DocSummary::Restricted { conflict } => {
                if let (true, Some(record)) = (*conflict, id.strip_suffix(".restricted")) {
                    self.conn.execute(
                        "UPDATE records SET conflict = 1 WHERE record_id = ?1",
                        [record],
                    )?;
                }
            }
            DocSummary::Subject {
                subject_id,
                display_name,
                date_of_birth,
                documents,
                sex,
                merged_into,
                conflict,
                created,
            } => {
                self.conn.execute(
                    "INSERT INTO subjects(subject_id, display_name, name_fold, name_skeleton, date_of_birth, documents, sex, merged_into, conflict, created)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                     ON CONFLICT(subject_id) DO UPDATE SET display_name = ?2, name_fold = ?3, name_skeleton = ?4,
                       date_of_birth = ?5, documents = ?6, sex = ?7, merged_into = ?8, conflict = ?9",
                    params![
                        subject_id,
                        display_name,
                        fold(display_name),
                        skeleton(display_name),
                        date_of_birth,
                        documents,
                        sex,
                        merged_into,
                        conflict,
                        created
                    ],
                )?;
            }
        }
        Ok(())
    }

    /// Rewrites the projection row of a record from its documents.
    pub(crate) fn project_record(&mut self, record: &str) -> Result<()> {
        let Some(d) = self.doc(record)? else {
            return Ok(());
        };
        let Some(summary) = summarize(DocKind::Record, d) else {
            // Changes whose creation has not arrived yet: nothing to list.
            return Ok(());
        };
        // A session without the restricted key does not see (or resolve) conflicts
        // inside restricted sections.
        let twin = restricted_id(record);
        let twin_conflict = match self.can_read(&twin) {
            true => self
                .doc(&twin)?
                .is_some_and(|r| doc::has_conflict(r, "answers")),
            false => false,
        };
        self.write_summary(record, &summary, twin_conflict)?;
        self.project_alerts(record)
    }

    /// Rewrites the search row of a subject from its document.
    pub(crate) fn project_subject(&mut self, id: &str) -> Result<()> {
        let Some(d) = self.doc(id)? else {
            return Ok(());
        };
        match summarize(DocKind::Subject, d) {
            Some(summary) => self.write_summary(id, &summary, false),
            None => Ok(()),
        }
    }
}
