//! What the list and search screens need from one document (its projection row),
//! derived from that document alone. The store writes its projection tables from a
//! summary; the server computes the same summary when it verifies a document and
//! sends it with a whole document the device has never seen, so the device lists
//! the record without loading it (about a millisecond per record saved on a first
//! sync of thousands).

use crate::doc::{self, DocKind};
use crate::fields::normalise_document;
use automerge::Automerge;
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
