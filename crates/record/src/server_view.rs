//! What the server needs to evaluate a record it holds as a document (pure: the
//! caller passes the document, the subject's values and "today"): the answers,
//! confirmed warnings and encounter metadata the device's evaluation uses, with the
//! values the form takes from the subject, and which fields are restricted.

use crate::doc;
use automerge::Automerge;
use serde_json::{Map, Value as J};
use std::collections::BTreeSet;
use tern_forms::{FieldSource, Form};

/// The record document's inputs to an evaluation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordInput {
    /// The record's answers (its restricted twin is not read).
    pub answers: Map<String, J>,
    /// Confirmed warnings as `rule@field` (their reasons are not read).
    pub confirmed: BTreeSet<String>,
    pub subject_id: String,
    pub site: String,
    pub device: String,
    pub creator: String,
    /// When the record was started (RFC 3339).
    pub created: String,
}

/// Reads a record document's evaluation inputs.
pub fn record_input(d: &Automerge) -> RecordInput {
    let root = |k: &str| doc::root_str(d, k).unwrap_or_default();
    RecordInput {
        answers: doc::read_answers(d, "answers").answers,
        confirmed: doc::root_map_strings(d, "confirmed")
            .keys()
            .cloned()
            .collect(),
        subject_id: root("subject_id"),
        site: root("site"),
        device: root("device"),
        creator: root("creator"),
        created: root("created"),
    }
}

/// The values a record is evaluated over, as the device combines them: its answers,
/// the subject values its form takes from the subject, and the encounter metadata.
pub fn evaluation_values(
    form: &Form,
    record_id: &str,
    input: &RecordInput,
    subject: &Map<String, J>,
) -> Map<String, J> {
    let mut combined = input.answers.clone();
    for (k, v) in subject {
        if form
            .field(k)
            .is_some_and(|f| f.source() == FieldSource::Subject || f.is_identity())
        {
            combined.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in [
        ("encounter_id", record_id),
        ("form_version", form.version()),
        ("site_id", &input.site),
        ("device_id", &input.device),
        ("screener_id", &input.creator),
        ("encounter_start", &input.created),
        ("subject_id", &input.subject_id),
    ] {
        if form.field(k).is_some() {
            combined.insert(k.into(), J::String(v.to_string()));
        }
    }
    combined
}

/// Whether a field path (`group[i].field` or `field`) names a restricted field
/// (restricted itself, or in a restricted section or group; FORMS.md 2.2).
pub fn is_restricted_path(form: &Form, path: &str) -> bool {
    let id = path.rsplit('.').next().unwrap_or(path);
    let id = id.split('[').next().unwrap_or(id);
    form.field(id)
        .is_some_and(|f| crate::fields::is_restricted(form, f))
}

/// Whether a field is an identity field (names, document numbers: FORMS.md 2).
pub fn is_identity_path(form: &Form, path: &str) -> bool {
    let id = path.rsplit('.').next().unwrap_or(path);
    let id = id.split('[').next().unwrap_or(id);
    form.field(id).is_some_and(|f| f.is_identity()) || crate::fields::is_identity_field(id)
}

/// Whether `name` is one of `accounts` (name, role) with one of `roles`: the rule of
/// a field picked from the site's accounts (`choices_from.accounts`), applied by the
/// device store to its own writes and by the server's verifier to pushed ones.
pub fn names_account(accounts: &[(String, String)], roles: &[String], name: &str) -> bool {
    accounts
        .iter()
        .any(|(n, r)| n == name && roles.iter().any(|x| x == r))
}

/// A field picked from the site's accounts that a record's new changes set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPick {
    pub field: String,
    /// The name it now holds.
    pub name: String,
    /// The roles the form lets it name.
    pub roles: Vec<String>,
}

/// The account picks (`choices_from.accounts`, top-level answers) whose value
/// differs from the one at `since` (the heads of the record's verified state; empty
/// for a document new to the server): what the changes after `since` set. A pick
/// cleared or left as it was is not listed, so a record naming someone whose
/// account changed later is not judged again on every edit.
pub fn account_picks_since(
    form: &Form,
    d: &Automerge,
    since: &[automerge::ChangeHash],
) -> Vec<AccountPick> {
    use automerge::ReadDoc;
    let Ok(Some((automerge::Value::Object(automerge::ObjType::Map), answers))) =
        d.get(automerge::ROOT, "answers")
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for f in form.fields() {
        let Some(roles) = f.account_roles() else {
            continue;
        };
        let Some(J::String(name)) = answer_at(d, &answers, f.id(), None) else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        let before = if since.is_empty() {
            None
        } else {
            answer_at(d, &answers, f.id(), Some(since))
        };
        if before.as_ref().and_then(J::as_str) != Some(name.as_str()) {
            out.push(AccountPick {
                field: f.id().to_string(),
                name,
                roles: roles.to_vec(),
            });
        }
    }
    out
}

/// A top-level answer now (`heads` `None`) or at `heads`: JSON text in a string, or
/// a text object's text.
fn answer_at(
    d: &Automerge,
    answers: &automerge::ObjId,
    id: &str,
    heads: Option<&[automerge::ChangeHash]>,
) -> Option<J> {
    use automerge::ReadDoc;
    let got = match heads {
        None => d.get(answers, id),
        Some(h) => d.get_at(answers, id, h),
    };
    match got.ok().flatten()? {
        (automerge::Value::Scalar(s), _) => match s.as_ref() {
            automerge::ScalarValue::Str(t) => serde_json::from_str(t).ok(),
            _ => None,
        },
        (automerge::Value::Object(automerge::ObjType::Text), obj) => match heads {
            None => d.text(&obj).ok().map(J::String),
            Some(h) => d.text_at(&obj, h).ok().map(J::String),
        },
        _ => None,
    }
}

/// A record's answers (and open conflicts) as JSON, for a server view of a document
/// loaded from its changes. `top` is `answers` (records, restricted twins).
pub fn document_answers(doc: &Automerge) -> serde_json::Value {
    let read = crate::doc::read_answers(doc, "answers");
    serde_json::json!({
        "answers": read.answers,
        "conflicts": read.conflicts,
    })
}

/// A root string register of a document (`site`, `status`, `form_id`, ...).
pub fn document_root(doc: &Automerge, key: &str) -> Option<String> {
    crate::doc::root_str(doc, key)
}

/// Whether any answer of the document has concurrent values.
pub fn document_has_conflict(doc: &Automerge) -> bool {
    crate::doc::has_conflict(doc, "answers")
}
